package scaffold

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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
	src := "# head\nname: x\n\nservices:\n  a: {image: a}\n"
	out, err := Insert([]byte(src), "x-devenv:\n  stack: s", false)
	if err != nil || string(out) != "# head\nname: x\n\nx-devenv:\n  stack: s\nservices:\n  a: {image: a}\n" {
		t.Fatalf("%v\n%s", err, out)
	}
	old := "name: x\nx-devenv:\n  stack: old\n  # note\n\nservices: {}\n"
	out, err = Insert([]byte(old), "x-devenv:\n  stack: new", true)
	if err != nil || !strings.HasPrefix(string(out), "name: x\nx-devenv:\n  stack: new\nservices: {}") {
		t.Fatalf("force: %v\n%s", err, out)
	}
}
