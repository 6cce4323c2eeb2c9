package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Store is one trust store devenv's CA can be added to, and what happened
// when it was tried.
type Store struct {
	Name   string // "system (Debian/Ubuntu)", "NSS /home/me/.pki/nssdb"
	Done   bool
	Detail string // the change, or why it failed and what to run instead
}

// Nickname is how the CA is named in NSS databases: one per CA, so a new
// CA never shadows an old one's removal.
func (ca *CA) Nickname() string {
	sum := sha256.Sum256(ca.cert.Raw)
	return "devenv local CA " + hex.EncodeToString(sum[:4])
}

// Trust adds the CA to the system's store and to the NSS databases Chrome
// and Firefox read under home (where certutil exists), each on its own;
// add false removes it. It never asks for a password: a store that needs
// root, when devenv is not root, is reported with the command to run.
func (ca *CA) Trust(ctx context.Context, home string, add bool) []Store {
	out := []Store{ca.TrustSystem(ctx, add)}
	for _, db := range nssDatabases(home, add) {
		out = append(out, ca.nss(ctx, db, add))
	}
	return out
}

// systemStore is where a system keeps extra CAs and the command that
// rebuilds its bundle.
type systemStore struct {
	name, dir, ext string
	update         []string
}

var linuxStores = []systemStore{
	{"system (Debian/Ubuntu)", "/usr/local/share/ca-certificates", ".crt", []string{"update-ca-certificates"}},
	{"system (Fedora/RHEL)", "/etc/pki/ca-trust/source/anchors", ".pem", []string{"update-ca-trust", "extract"}},
}

// TrustSystem adds the CA to (or, add false, removes it from) the
// system's store only.
func (ca *CA) TrustSystem(ctx context.Context, add bool) Store {
	if runtime.GOOS == "darwin" {
		return ca.keychain(ctx, add)
	}
	for _, s := range linuxStores {
		if _, err := exec.LookPath(s.update[0]); err != nil {
			continue
		}
		file := filepath.Join(s.dir, strings.ReplaceAll(ca.Nickname(), " ", "-")+s.ext)
		cmd := fmt.Sprintf("sudo cp %s %s && sudo %s", ca.CertPath, file, strings.Join(s.update, " "))
		if !add {
			cmd = fmt.Sprintf("sudo rm %s && sudo %s", file, strings.Join(s.update, " "))
		}
		if os.Geteuid() != 0 {
			return Store{Name: s.name, Detail: "needs root; run: " + cmd}
		}
		var err error
		if add {
			err = copyFile(ca.CertPath, file)
		} else if err = os.Remove(file); errors.Is(err, os.ErrNotExist) {
			return Store{Name: s.name, Done: true, Detail: "not there"}
		}
		if err == nil {
			err = run(ctx, s.update...)
		}
		if err != nil {
			return Store{Name: s.name, Detail: err.Error()}
		}
		return Store{Name: s.name, Done: true, Detail: map[bool]string{true: "added " + file, false: "removed " + file}[add]}
	}
	return Store{Name: "system", Detail: "no update-ca-certificates or update-ca-trust here; add " + ca.CertPath + " to the system's trust store by hand"}
}

// keychain is macOS's login keychain (no password asked for the user's
// own; the system keychain would need one).
func (ca *CA) keychain(ctx context.Context, add bool) Store {
	home, _ := os.UserHomeDir()
	kc := filepath.Join(home, "Library", "Keychains", "login.keychain-db")
	var err error
	if add {
		err = run(ctx, "security", "add-trusted-cert", "-r", "trustRoot", "-k", kc, ca.CertPath)
	} else {
		err = run(ctx, "security", "remove-trusted-cert", ca.CertPath)
	}
	if err != nil {
		return Store{Name: "macOS login keychain", Detail: err.Error()}
	}
	return Store{Name: "macOS login keychain", Done: true, Detail: kc}
}

// nssDatabases are Chrome's ($HOME/.pki/nssdb, made when adding and it is
// missing) and each Firefox profile's under home.
func nssDatabases(home string, add bool) []string {
	var out []string
	chrome := filepath.Join(home, ".pki", "nssdb")
	if _, err := os.Stat(chrome); err == nil || add {
		out = append(out, chrome)
	}
	for _, pattern := range []string{".mozilla/firefox/*", "snap/firefox/common/.mozilla/firefox/*", "Library/Application Support/Firefox/Profiles/*"} {
		matches, _ := filepath.Glob(filepath.Join(home, pattern))
		for _, m := range matches {
			if _, err := os.Stat(filepath.Join(m, "cert9.db")); err == nil {
				out = append(out, m)
			}
		}
	}
	return out
}

func (ca *CA) nss(ctx context.Context, db string, add bool) Store {
	name := "NSS " + db
	if _, err := exec.LookPath("certutil"); err != nil {
		return Store{Name: name, Detail: "certutil not found (Debian: apt install libnss3-tools; Fedora: dnf install nss-tools)"}
	}
	if add {
		if _, err := os.Stat(filepath.Join(db, "cert9.db")); err != nil {
			if err := os.MkdirAll(db, 0o700); err != nil {
				return Store{Name: name, Detail: err.Error()}
			}
			if err := run(ctx, "certutil", "-N", "-d", "sql:"+db, "--empty-password"); err != nil {
				return Store{Name: name, Detail: err.Error()}
			}
		}
		if err := run(ctx, "certutil", "-A", "-d", "sql:"+db, "-t", "C,,", "-n", ca.Nickname(), "-i", ca.CertPath); err != nil {
			return Store{Name: name, Detail: err.Error()}
		}
		return Store{Name: name, Done: true, Detail: "added " + ca.Nickname()}
	}
	if err := run(ctx, "certutil", "-D", "-d", "sql:"+db, "-n", ca.Nickname()); err != nil {
		if strings.Contains(err.Error(), "could not find certificate") {
			return Store{Name: name, Done: true, Detail: "not there"}
		}
		return Store{Name: name, Detail: err.Error()}
	}
	return Store{Name: name, Done: true, Detail: "removed " + ca.Nickname()}
}

// run runs a command with no input (so nothing can ask for a password)
// and returns its output as the error when it fails.
func run(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &out, nil
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// copyFile writes from's bytes to to through a new file renamed into
// place: a symlink at to is replaced, never followed.
func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	tmp := to + ".devenv-new"
	os.Remove(tmp)
	if err := writeNew(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, to); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Trusted says which stores hold the CA now: the system's (its file in
// the store's directory) and each NSS database under home that lists it.
func (ca *CA) Trusted(ctx context.Context, home string) []Store {
	var out []Store
	for _, s := range linuxStores {
		file := filepath.Join(s.dir, strings.ReplaceAll(ca.Nickname(), " ", "-")+s.ext)
		if _, err := os.Stat(s.dir); err != nil {
			continue
		}
		_, err := os.Stat(file)
		out = append(out, Store{Name: s.name, Done: err == nil, Detail: file})
	}
	if _, err := exec.LookPath("certutil"); err != nil {
		return out
	}
	for _, db := range nssDatabases(home, false) {
		err := run(ctx, "certutil", "-L", "-d", "sql:"+db, "-n", ca.Nickname())
		out = append(out, Store{Name: "NSS " + db, Done: err == nil})
	}
	return out
}
