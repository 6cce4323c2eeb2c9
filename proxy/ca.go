package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"
)

// The CA's files in its directory: the certificate (public, for trust
// stores) and its key (0600, never written anywhere else).
const (
	CertFile = "ca.pem"
	KeyFile  = "ca-key.pem"
)

// CA is devenv's own certificate authority: ECDSA P-256, constrained to
// names under localhost where clients honour name constraints. It mints a
// leaf certificate for each name on first use and keeps it in memory.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// CertPath is the CA certificate's file.
	CertPath string

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

// LoadCA reads the CA in dir, creating it on first use: both files are
// written into a new directory beside it that is then renamed into place,
// so a crash or a second devenv never leaves half a CA. No file is
// written through a symlink, and a key others may read is refused.
func LoadCA(dir string) (*CA, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, err
	}
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		tmp, err := os.MkdirTemp(filepath.Dir(dir), ".ca-new-")
		if err != nil {
			return nil, err
		}
		err = createCA(filepath.Join(tmp, CertFile), filepath.Join(tmp, KeyFile))
		if err == nil {
			err = os.Rename(tmp, dir)
		}
		if err != nil {
			os.RemoveAll(tmp) // another devenv made it first, or the create failed
			if _, statErr := os.Lstat(dir); statErr != nil {
				return nil, err
			}
		}
	}
	return readCA(certPath, keyPath)
}

// ReadCA reads the CA in dir and never makes one (for root, acting for a
// user under sudo).
func ReadCA(dir string) (*CA, error) {
	return readCA(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
}

func readCA(certPath, keyPath string) (*CA, error) {
	info, err := os.Lstat(keyPath)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("CA key %s: must be a regular file only its owner can read (0600)", keyPath)
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	kblock, _ := pem.Decode(kb)
	cblock, _ := pem.Decode(cb)
	if kblock == nil || cblock == nil {
		return nil, fmt.Errorf("CA in %s: not PEM; remove %s and %s to make a new one (and trust it again)", filepath.Dir(certPath), CertFile, KeyFile)
	}
	key, err := x509.ParseECPrivateKey(kblock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA key %s: %w", keyPath, err)
	}
	cert, err := x509.ParseCertificate(cblock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA certificate %s: %w", certPath, err)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("CA in %s: the key is not the certificate's; remove the directory to make a new CA (and trust it again)", filepath.Dir(certPath))
	}
	return &CA{cert: cert, key: key, CertPath: certPath, leaves: map[string]*tls.Certificate{}}, nil
}

func createCA(certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	who := "devenv"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	if h, err := os.Hostname(); err == nil {
		who += "@" + h
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"devenv local CA"}, CommonName: "devenv local CA (" + who + ")"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		PermittedDNSDomains:   []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	// The key first: a certificate without its key is never left behind.
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	if err := writeNew(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		os.Remove(keyPath)
		return err
	}
	return nil
}

// writeNew creates path with data; it never replaces a file nor follows a
// symlink (O_EXCL fails on one, dangling or not).
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on the systems Go supports
	}
	return n
}

// Certificate is the CA's certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// Pool is a certificate pool that trusts the CA, for clients.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// maxLeaves bounds the certificates kept: any page may ask for names.
const maxLeaves = 1024

// Leaf is the certificate for name, minted on first use and kept (at most
// maxLeaves; past that, the cache starts again).
func (ca *CA) Leaf(name string) (*tls.Certificate, error) {
	ca.mu.Lock()
	c, ok := ca.leaves[name]
	ca.mu.Unlock()
	if ok && time.Until(c.Leaf.NotAfter) > 24*time.Hour {
		return c, nil
	}
	c, err := ca.mint(name)
	if err != nil {
		return nil, err
	}
	ca.mu.Lock()
	if len(ca.leaves) >= maxLeaves {
		ca.leaves = map[string]*tls.Certificate{}
	}
	ca.leaves[name] = c
	ca.mu.Unlock()
	return c, nil
}

func (ca *CA) mint(name string) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"devenv"}, CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		// Browsers refuse leaves valid for more than 398 days.
		NotAfter:    time.Now().AddDate(0, 0, 397),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}
