package compose

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLinkedWorktreeAndInstanceName(t *testing.T) {
	root := t.TempDir()
	main := filepath.Join(root, "shop")
	wt := filepath.Join(root, "Shop_Feature.Login")
	os.MkdirAll(filepath.Join(main, ".git"), 0o755)
	os.MkdirAll(filepath.Join(wt, "sub", "dir"), 0o755)
	os.WriteFile(filepath.Join(wt, ".git"), []byte("gitdir: "+filepath.Join(main, ".git", "worktrees", "login")+"\n"), 0o644)
	if r, _, linked := LinkedWorktree(filepath.Join(main)); linked || r != main {
		t.Fatalf("main checkout: %s %v", r, linked)
	}
	if r, m, linked := LinkedWorktree(filepath.Join(wt, "sub", "dir")); !linked || r != wt || m != main {
		t.Fatalf("worktree: %s %s %v", r, m, linked)
	}
	if _, _, linked := LinkedWorktree(t.TempDir()); linked {
		t.Fatal("no checkout is not linked")
	}
	sep := t.TempDir()
	os.WriteFile(filepath.Join(sep, ".git"), []byte("gitdir: /home/me/worktrees/x.git\n"), 0o644)
	if _, _, linked := LinkedWorktree(sep); linked {
		t.Fatal("a --separate-git-dir checkout is not a worktree")
	}
	for in, want := range map[string]string{"Shop_Feature.Login": "shop-feature-login", "--x--": "x", "ÄÖ": "", "a-very-long-branch-name-that-goes-on-and-on-forever": "a-very-long-branch-name-that-goes-on-and"} {
		if got := InstanceName(in); got != want {
			t.Errorf("InstanceName(%q) = %q, want %q", in, got, want)
		}
	}
}

// An instance is PROJECT-INSTANCE with container_name X as X-INSTANCE; -p,
// or a COMPOSE_PROJECT_NAME already carrying the suffix (devenv's own in
// .env), names it as given.
func TestLoadAsInstance(t *testing.T) {
	const file = "name: shop\nservices:\n  db:\n    image: postgres:15\n    container_name: shop_db\n    volumes: [data:/var/lib/postgresql/data, shared:/s]\nvolumes:\n  data:\n  shared: {name: shop-shared}\n"
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), []byte(file), 0o644)
	p, err := load(t, dir, Options{Instance: "login"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "shop-login" || p.Instance != "login" || p.Model.Services["db"].ContainerName != "shop_db-login" {
		t.Fatalf("instance: name %s, instance %q, container %s", p.Name(), p.Instance, p.Model.Services["db"].ContainerName)
	}
	if v := p.Model.Volumes["data"].Name; v != "shop-login_data" {
		t.Fatalf("the instance's own volume is %s", v)
	}
	if v := p.Model.Volumes["shared"].Name; v != "shop-shared" {
		t.Fatalf("a named volume is %s", v)
	}
	if p, _ := load(t, dir, Options{Instance: "login", ProjectName: "mine"}); p.Name() != "mine" || p.Model.Services["db"].ContainerName != "shop_db-login" {
		t.Fatalf("-p: %s %s", p.Name(), p.Model.Services["db"].ContainerName)
	}
	os.WriteFile(filepath.Join(dir, ".env"), []byte("COMPOSE_PROJECT_NAME=shop-login\n"), 0o644)
	if p, _ := load(t, dir, Options{Instance: "login"}); p.Name() != "shop-login" {
		t.Fatalf("read back from .env: %s", p.Name())
	}
	if p, _ := load(t, dir, Options{}); p.Name() != "shop-login" || p.Instance != "" {
		t.Fatalf("without an instance: %s %q", p.Name(), p.Instance)
	}
}

// A worktree of a file without name: is the main checkout's project's
// instance, not one named after its own directory; a name that happens to
// end in -INSTANCE still gets the suffix.
func TestInstanceBaseName(t *testing.T) {
	root := t.TempDir()
	main, wt := filepath.Join(root, "shop"), filepath.Join(root, "login-form")
	os.MkdirAll(filepath.Join(main, ".git"), 0o755)
	os.MkdirAll(wt, 0o755)
	os.WriteFile(filepath.Join(wt, ".git"), []byte("gitdir: "+filepath.Join(main, ".git", "worktrees", "login-form")+"\n"), 0o644)
	os.WriteFile(filepath.Join(wt, "docker-compose.dev.yml"), []byte("services:\n  db: {image: postgres:15}\n"), 0o644)
	p, err := load(t, wt, Options{DetectInstance: true})
	if err != nil || p.Name() != "shop-login-form" {
		t.Fatalf("a worktree without name: %v %v", p.Name(), err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), []byte("name: shop-dev\nservices:\n  db: {image: postgres:15, container_name: db-dev}\n"), 0o644)
	p, err = load(t, dir, Options{Instance: "dev"})
	if err != nil || p.Name() != "shop-dev-dev" || p.Model.Services["db"].ContainerName != "db-dev-dev" {
		t.Fatalf("a name ending in -INSTANCE: %v %v %v", p.Name(), p.Model.Services["db"].ContainerName, err)
	}
}

// devenv's own .env block never names a project by itself: an instance
// finds its base name without it, and a main checkout whose .env carries
// an instance's block (copied or committed) keeps its own name.
func TestOwnBlockDoesNotName(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), []byte("name: shop\nservices:\n  db: {image: postgres:15}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("A=1\n"+blockBegin+": managed block\nCOMPOSE_PROJECT_NAME=shop-other\n"+blockEnd+"\n"), 0o644)
	if p, err := load(t, dir, Options{}); err != nil || p.Name() != "shop" {
		t.Fatalf("a main checkout with an instance's block: %v %v", p.Name(), err)
	}
	if p, err := load(t, dir, Options{Instance: "login"}); err != nil || p.Name() != "shop-login" {
		t.Fatalf("an instance with another instance's block: %v %v", p.Name(), err)
	}
}
