package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Endpoint is where the engine is and how devenv chose it.
type Endpoint struct {
	Host      string
	How       string
	TLSVerify bool
	TLS       bool
	CertPath  string // ca.pem, cert.pem, key.pem
	Remote    bool
	// PrivateSSH keeps an ssh:// engine's master connections to this
	// process (a forward, which lives long and holds many sessions)
	// instead of sharing the user's master for the host with commands.
	PrivateSSH bool
}

// DefaultHost is the engine socket when nothing else is configured.
func DefaultHost() string {
	if runtime.GOOS == "windows" {
		return "npipe:////./pipe/docker_engine"
	}
	return "unix:///var/run/docker.sock"
}

// Resolve finds the engine endpoint like the docker CLI: DOCKER_HOST, then
// DOCKER_CONTEXT, then the current context of the docker config, then the
// default socket.
func Resolve(getenv func(string) string) (Endpoint, error) {
	configDir := getenv("DOCKER_CONFIG")
	if configDir == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		configDir = filepath.Join(home, ".docker")
	}
	if h := getenv("DOCKER_HOST"); h != "" {
		ep := Endpoint{Host: h, How: "DOCKER_HOST"}
		if getenv("DOCKER_TLS_VERIFY") != "" {
			ep.TLS, ep.TLSVerify = true, true
			ep.CertPath = getenv("DOCKER_CERT_PATH")
			if ep.CertPath == "" {
				ep.CertPath = configDir
			}
		}
		return finish(ep)
	}
	name, how := getenv("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
	if name == "" {
		var cfg struct {
			CurrentContext string `json:"currentContext"`
		}
		if b, err := os.ReadFile(filepath.Join(configDir, "config.json")); err == nil {
			if err := json.Unmarshal(b, &cfg); err != nil {
				return Endpoint{}, fmt.Errorf("read docker config %s: %w", filepath.Join(configDir, "config.json"), err)
			}
		}
		name, how = cfg.CurrentContext, "current docker context in "+filepath.Join(configDir, "config.json")
	}
	if name == "" || name == "default" {
		return finish(Endpoint{Host: DefaultHost(), How: "default socket"})
	}
	ep, err := fromContext(configDir, name)
	if err != nil {
		return Endpoint{}, err
	}
	ep.How = fmt.Sprintf("docker context %q (%s)", name, how)
	return finish(ep)
}

func fromContext(configDir, name string) (Endpoint, error) {
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	metaPath := filepath.Join(configDir, "contexts", "meta", id, "meta.json")
	b, err := os.ReadFile(metaPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Endpoint{}, fmt.Errorf("docker context %q not found (no %s)", name, metaPath)
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("read docker context %q: %w", name, err)
	}
	var meta struct {
		Endpoints map[string]struct {
			Host          string
			SkipTLSVerify bool
		}
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return Endpoint{}, fmt.Errorf("read docker context %q (%s): %w", name, metaPath, err)
	}
	d, ok := meta.Endpoints["docker"]
	if !ok || d.Host == "" {
		return Endpoint{}, fmt.Errorf("docker context %q has no docker endpoint (%s)", name, metaPath)
	}
	ep := Endpoint{Host: d.Host}
	tlsDir := filepath.Join(configDir, "contexts", "tls", id, "docker")
	if _, err := os.Stat(filepath.Join(tlsDir, "ca.pem")); err == nil {
		ep.TLS, ep.TLSVerify, ep.CertPath = true, !d.SkipTLSVerify, tlsDir
	}
	return ep, nil
}

func finish(ep Endpoint) (Endpoint, error) {
	u, err := url.Parse(ep.Host)
	if err != nil || u.Scheme == "" {
		return Endpoint{}, fmt.Errorf("engine address %q (from %s) is not a URL such as unix:///var/run/docker.sock", ep.Host, ep.How)
	}
	switch u.Scheme {
	case "unix", "npipe":
		ep.Remote = false
	case "tcp", "http", "https":
		host := u.Hostname()
		ep.Remote = !isLoopback(host)
	case "ssh":
		ep.Remote = true
	default:
		return Endpoint{}, fmt.Errorf("engine address %q (from %s): scheme %q is not supported (unix, tcp, ssh, npipe)", ep.Host, ep.How, u.Scheme)
	}
	return ep, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// PlainTCP reports a tcp:// endpoint without TLS, which anyone on the network
// can drive.
func (ep Endpoint) PlainTCP() bool {
	return strings.HasPrefix(ep.Host, "tcp://") && !ep.TLS && ep.Remote
}
