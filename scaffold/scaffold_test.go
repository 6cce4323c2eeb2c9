package scaffold

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/devenv-dev/devenv/compose"
)

func load(t *testing.T, dir string) *compose.Project {
	t.Helper()
	dir, _ = filepath.Abs(dir)
	p, err := compose.Load(context.Background(), compose.Options{WorkingDir: dir, Environ: []string{"HOME=" + t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// copyTree copies a fixture project, so --write can be tried on it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestProposeGolden: on trees shaped like the reference document's three
// projects, init proposes the golden block (UPDATE_GOLDEN=1 rewrites).
func TestProposeGolden(t *testing.T) {
	for _, name := range []string{"auth", "controls", "enforcement"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", name)
			got, err := Propose(load(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".golden.yml")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, _ := os.ReadFile(golden)
			if got != string(want) {
				t.Fatalf("--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

// TestWriteChangesOnlyTheBlock: --write inserts the block and leaves every
// other byte (comments, order, quoting) as it was; the result loads, and on
// the enforcement tree it declares what examples/enforcement declares.
func TestWriteChangesOnlyTheBlock(t *testing.T) {
	for _, name := range []string{"auth", "controls", "enforcement"} {
		t.Run(name, func(t *testing.T) {
			dir := copyTree(t, filepath.Join("testdata", name))
			file := filepath.Join(dir, "docker-compose.dev.yml")
			orig, _ := os.ReadFile(file)
			block, err := Propose(load(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			out, err := Insert(orig, block, false)
			if err != nil {
				t.Fatal(err)
			}
			i := bytes.Index(out, []byte(block))
			if i < 0 || !bytes.Equal(append(append([]byte{}, out[:i]...), out[i+len(block)+1:]...), orig) {
				t.Fatalf("bytes besides the block changed:\n%s", out)
			}
			os.WriteFile(file, out, 0o644)
			p := load(t, dir)
			if _, err := Insert(out, block, false); !errors.Is(err, ErrHasBlock) {
				t.Fatalf("a second insert: %v", err)
			}
			again, err := Insert(out, block, true)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("--force with the same block changed the file (%v):\n%s", err, again)
			}
			if name != "enforcement" {
				return
			}
			ex := load(t, filepath.Join("..", "examples", "enforcement"))
			if p.X.Stack != ex.X.Stack || !reflect.DeepEqual(p.X.EnvFiles, ex.X.EnvFiles) {
				t.Fatalf("stack %q env files %v; the example has %q %v", p.X.Stack, p.X.EnvFiles, ex.X.Stack, ex.X.EnvFiles)
			}
			for n, h := range ex.X.Host {
				got := p.X.Host[n]
				if got.Role != h.Role || got.Port != h.Port || got.Health != h.Health || !reflect.DeepEqual(got.Env, h.Env) || !reflect.DeepEqual(got.DependsOn, h.DependsOn) {
					t.Errorf("host %s: %+v, the example has %+v", n, got, h)
				}
			}
		})
	}
}

func TestInsertWhereAndForce(t *testing.T) {
	crlf := "name: x\r\nservices:\r\n  a: {image: a}\r\n"
	if out, err := Insert([]byte(crlf), "x-devenv:\n  stack: s", false); err != nil || string(out) != "name: x\r\nx-devenv:\r\n  stack: s\r\n\r\nservices:\r\n  a: {image: a}\r\n" {
		t.Fatalf("CRLF: %v %q", err, out)
	}
	if !Has([]byte("'x-devenv':\n  stack: q\n")) || Has([]byte("services:\n  x:\n    x-devenv: {}\n")) {
		t.Fatal("Has: a quoted top-level key is a block, a nested one is not")
	}
	src := "# head\nname: x\n\nservices:\n  a: {image: a}\n"
	out, err := Insert([]byte(src), "x-devenv:\n  stack: s", false)
	if err != nil || string(out) != "# head\nname: x\n\nx-devenv:\n  stack: s\n\nservices:\n  a: {image: a}\n" {
		t.Fatalf("%v\n%s", err, out)
	}
	old := "name: x\nx-devenv:\n  stack: old\n  # note\n\nservices: {}\n"
	out, err = Insert([]byte(old), "x-devenv:\n  stack: new", true)
	if err != nil || string(out) != "name: x\nx-devenv:\n  stack: new\n  # note\n\nservices: {}\n" {
		t.Fatalf("force: %v\n%s", err, out)
	}
}

// TestProposeLoads: what init proposes for awkward projects still loads:
// a compose service named backend, a published port equal to Phoenix's,
// $ and braces in example values, a service with two published ports.
func TestProposeLoads(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	write("docker-compose.dev.yml", `name: odd
services:
  backend: {image: nginx, ports: ["4000:80"]}
  db:
    image: postgres:15
    environment: {POSTGRES_PASSWORD: "p@ss$$word", POSTGRES_DB: app}
    ports: ["5434:5432"]
  minio: {image: minio/minio, ports: ["9000:9000", "9001:9001"]}
`)
	write("mix.exs", `[{:phoenix, "~> 1.7"}]`)
	write(".env.example", "S3=http://localhost:9001\nPRICE=$5\nFMT={level} {msg}\n- X=1\n")
	block, err := Propose(load(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(filepath.Join(dir, "docker-compose.dev.yml"))
	out, err := Insert(src, block, false)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "docker-compose.dev.yml"), out, 0o644)
	p := load(t, dir)
	h, ok := p.X.Host["phoenix"]
	if !ok || h.Port != 4001 {
		t.Fatalf("the Phoenix host service: %+v (block:\n%s)", p.X.Host, block)
	}
	if got := h.Env["DATABASE_URL"]; got != "ecto://postgres:p%40ss$word@localhost:{db}/app" {
		t.Fatalf("DATABASE_URL %q", got)
	}
	env := p.X.EnvFiles[".env"]
	if env["S3"] != "http://localhost:{minio:9001}" || env["PRICE"] != "$5" || env["FMT"] != "" {
		t.Fatalf("env template %v (block:\n%s)", env, block)
	}
}
