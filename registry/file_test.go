package registry

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a helper process for the multi-process tests.
func TestMain(m *testing.M) {
	switch os.Getenv("REGISTRY_HELPER") {
	case "assign":
		port, _ := strconv.Atoi(os.Getenv("HELPER_PORT"))
		s := &Store{Path: os.Getenv("HELPER_PATH"), LockTimeout: 30 * time.Second}
		_, err := s.Update(context.Background(), func(reg *Registry) (bool, error) {
			res, err := Reconcile(reg, req(os.Getenv("HELPER_PROJECT"), pr("postgres", "postgres", 5432, port), pr("redis", "redis", 6379, 6380)), nil, nil)
			return res.Changed, err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "churn":
		s := &Store{Path: os.Getenv("HELPER_PATH"), LockTimeout: 30 * time.Second}
		for i := 0; ; i++ {
			_, err := s.Update(context.Background(), func(reg *Registry) (bool, error) {
				name := fmt.Sprintf("churn-%d", i%50)
				if reg.Remove(name, "") {
					return true, nil
				}
				_, err := Reconcile(reg, req(name, pr("postgres", "postgres", 5432, 5434)), nil, nil)
				return true, err
			})
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	case "hold-project":
		s := &Store{Path: os.Getenv("HELPER_PATH")}
		_, unlock, err := s.LockProject(context.Background(), "demo", nil)
		if err != nil {
			os.Exit(1)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n') // until the test says
		unlock()
		os.Exit(0)
	case "hold":
		s := &Store{Path: os.Getenv("HELPER_PATH")}
		unlock, err := s.lock(context.Background())
		if err != nil {
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
		unlock()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helper(t *testing.T, mode, path string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"REGISTRY_HELPER=" + mode, "HELPER_PATH=" + path}, env...)...)
	return cmd
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct{ name, data, want string }{
		{"empty", "", "file is empty"},
		{"not yaml", "version: 1\nprojects: [\n", "line"},
		{"unknown key", "version: 1\nprojectz: []\n", "line 2"},
		{"newer", "version: 99\n", "newer than this devenv"},
		{"bad port", "version: 1\nprojects:\n  - name: a\n    directory: /a\n    reservations:\n      - {service: s, role: r, target: 1, port: 70000, protocol: tcp}\n", "out of range"},
		{"bad protocol", "version: 1\nprojects:\n  - name: a\n    directory: /a\n    reservations:\n      - {service: s, role: r, target: 1, port: 7000, protocol: xyz}\n", "protocol"},
		{"duplicate project", "version: 1\nprojects:\n  - {name: a, directory: /a}\n  - {name: a, directory: /a}\n", "appears twice"},
		{"bad rule", "version: 1\nrules:\n  postgres: {start: 0}\n", "rules.postgres"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode("/x/registry.yaml", []byte(c.data))
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/x/registry.yaml") {
				t.Fatalf("got %v, want a ParseError naming the file and %q", err, c.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	reg := bigRegistry(3)
	good, _ := Encode(reg)
	f.Add(string(good))
	f.Add("version: 1\n")
	f.Add("version: 2\n")
	f.Add("version: 1\nrules: {x: {start: 10, end: 5}}\n")
	f.Fuzz(func(t *testing.T, s string) {
		reg, err := Decode("fuzz", []byte(s))
		if err != nil {
			return
		}
		// Whatever decodes must survive an encode/decode round trip.
		b, err := Encode(reg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode("fuzz", b); err != nil {
			t.Fatalf("round trip: %v\n%s", err, b)
		}
	})
}

func TestUpdateCreatesPrivateFiles(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "new", "dir", "registry.yaml")
	s := &Store{Path: path}
	_, err := s.Update(t.Context(), func(reg *Registry) (bool, error) {
		_, err := Reconcile(reg, req("a", pr("db", "postgres", 5432, 5434)), nil, nil)
		return true, err
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700, filepath.Dir(filepath.Dir(path)): 0o700, path + ".lock": 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %o, want %o", p, st.Mode().Perm(), want)
		}
	}
	reg, err := s.Load()
	if err != nil || reg.Find("a", "") == nil {
		t.Fatalf("reload: %v", err)
	}
}

func TestUpdateRefusesBadFiles(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(path string)
		want    string
	}{
		{"corrupt", func(p string) { os.WriteFile(p, []byte("version: 1\nprojects: [\n"), 0o600) }, "line"},
		{"newer", func(p string) { os.WriteFile(p, []byte("version: 7\nfuture: {}\n"), 0o600) }, "newer"},
		{"group writable", func(p string) { os.WriteFile(p, []byte("version: 1\n"), 0o600); os.Chmod(p, 0o664) }, "writable by group"},
		{"symlink", func(p string) {
			target := p + ".real"
			os.WriteFile(target, []byte("version: 1\n"), 0o600)
			os.Symlink(target, p)
		}, "symlink"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "registry.yaml")
			c.prepare(path)
			before, _ := os.ReadFile(path)
			s := &Store{Path: path, LockTimeout: time.Second}
			_, err := s.Update(t.Context(), func(reg *Registry) (bool, error) { return true, nil })
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "registry") {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			after, _ := os.ReadFile(path)
			if string(before) != string(after) {
				t.Fatal("file changed")
			}
		})
	}
}

func TestLockTimeoutNamesHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.yaml")
	cmd := helper(t, "hold", path)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	buf := make([]byte, 16)
	if n, _ := out.Read(buf); !strings.Contains(string(buf[:n]), "locked") {
		t.Fatal("helper did not lock")
	}
	s := &Store{Path: path, LockTimeout: 300 * time.Millisecond}
	_, err := s.Update(t.Context(), func(reg *Registry) (bool, error) { return true, nil })
	var le *LockError
	if !errors.As(err, &le) || le.PID != cmd.Process.Pid || !strings.Contains(err.Error(), strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("got %v, want a lock error naming pid %d", err, cmd.Process.Pid)
	}
}

func TestConcurrentProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.yaml")
	run := func(n int, project func(int) string, port int) {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := helper(t, "assign", path, "HELPER_PROJECT="+project(i), "HELPER_PORT="+strconv.Itoa(port))
				if out, err := cmd.CombinedOutput(); err != nil {
					errs <- fmt.Errorf("%s: %v %s", project(i), err, out)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	// 16 projects at once: all recorded, all ports distinct.
	run(16, func(i int) string { return fmt.Sprintf("proj-%02d", i) }, 5434)
	// 10 claims on one port: exactly one owner.
	run(10, func(i int) string { return fmt.Sprintf("claim-%02d", i) }, 7777)
	reg, err := (&Store{Path: path}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Projects) != 26 {
		t.Fatalf("want 26 projects, got %d", len(reg.Projects))
	}
	seen := map[int]string{}
	owners := 0
	for _, p := range reg.Projects {
		for _, r := range p.Reservations {
			if other, dup := seen[r.Port]; dup {
				t.Fatalf("port %d given to %s and %s", r.Port, other, p.Name)
			}
			seen[r.Port] = p.Name
			if r.Port == 7777 {
				owners++
			}
		}
	}
	if owners != 1 {
		t.Fatalf("port 7777 has %d owners", owners)
	}
}

func TestKillDuringWritesLeavesParsableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.yaml")
	iterations := 200
	if testing.Short() {
		iterations = 20
	}
	for i := 0; i < iterations; i++ {
		cmd := helper(t, "churn", path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(15000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if data, err := os.ReadFile(path); err == nil {
			if _, err := Decode(path, data); err != nil {
				t.Fatalf("iteration %d: registry does not parse after SIGKILL: %v", i, err)
			}
		}
	}
	// The next update clears temporary files a killed writer left.
	if _, err := (&Store{Path: path}).Update(t.Context(), func(*Registry) (bool, error) { return false, nil }); err != nil {
		t.Fatal(err)
	}
	if stale, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".registry.yaml.tmp-*")); len(stale) > 0 {
		t.Fatalf("stale temporary files: %v", stale)
	}
}

func BenchmarkLoadSave1000(b *testing.B) {
	path := filepath.Join(b.TempDir(), "registry.yaml")
	data, _ := Encode(bigRegistry(1000))
	os.WriteFile(path, data, 0o600)
	s := &Store{Path: path}
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Load(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Update(context.Background(), func(*Registry) (bool, error) { return true, nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestLockProjectSerialises(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "registry.yaml")
	s := &Store{Path: path}
	// Held by another process: a second lock waits, says so with its pid,
	// and gets it once the holder lets go.
	holder := helper(t, "hold-project", path)
	release, _ := holder.StdinPipe()
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper: %q", line)
	}
	got := make(chan error, 1)
	waited := make(chan int, 1)
	go func() {
		_, u, err := s.LockProject(t.Context(), "demo", func(pid int) { waited <- pid })
		if err == nil {
			u()
		}
		got <- err
	}()
	if pid := <-waited; pid != holder.Process.Pid {
		t.Fatalf("waiting named pid %d, want the holder's %d", pid, holder.Process.Pid)
	}
	select {
	case err := <-got:
		t.Fatalf("lock taken while another process holds it: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	// Another project is not held up.
	_, other, err := s.LockProject(t.Context(), "other", func(int) { t.Error("other project waited") })
	if err != nil {
		t.Fatal(err)
	}
	other()
	release.Write([]byte("\n"))
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	holder.Wait()

	// The context carries the lock: a call chain passes through, another
	// goroutine of this process waits for it.
	ctx, unlock, err := s.LockProject(t.Context(), "demo", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, inner, err := s.LockProject(ctx, "demo", func(int) { t.Error("the holder's own chain waited") })
	if err != nil {
		t.Fatal(err)
	}
	inner()
	sibling := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, u, err := s.LockProject(t.Context(), "demo", func(pid int) { sibling <- pid })
		if err == nil {
			u()
		}
	}()
	if pid := <-sibling; pid != os.Getpid() {
		t.Fatalf("another goroutine waited for pid %d, want this process", pid)
	}
	unlock()
	<-done

	// A cancelled wait is ctx's error.
	holder = helper(t, "hold-project", path)
	release, _ = holder.StdinPipe()
	out, _ = holder.StdoutPipe()
	holder.Start()
	bufio.NewReader(out).ReadString('\n')
	cctx, cancel := context.WithCancel(t.Context())
	if _, _, err := s.LockProject(cctx, "demo", func(int) { cancel() }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	release.Write([]byte("\n"))
	holder.Wait()
	if _, _, err := s.LockProject(t.Context(), "../x", nil); err == nil {
		t.Fatal("a path as project name was accepted")
	}
}
