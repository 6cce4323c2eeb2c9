package registry

import (
	"fmt"

	"github.com/devenv-dev/devenv/internal/errdefs"
)

// PortRequest is what a project's file asks for; compose.PortRequest in
// registry terms.
type PortRequest struct {
	Service  string
	Role     string
	Target   int
	HostIP   string
	Port     int // 0 = no host port requested
	PortEnd  int // >0 for a published range
	Protocol string
	Host     bool
	// Managed is a host service devenv runs: only its own processes (the
	// caller's Occupied leaves them out) may hold its port.
	Managed bool
	Index   int // position in the service's ports list
}

// Key identifies the request; for a range, its first port.
func (pr PortRequest) Key() PortKey {
	return PortKey{Service: pr.Service, Index: pr.Index, HostIP: pr.HostIP, Requested: pr.Port, Target: pr.Target, Protocol: pr.Protocol}
}

// rangeKey identifies port (within the request's range) as its own key.
func (pr PortRequest) rangeKey(port int) PortKey {
	k := pr.Key()
	k.Requested, k.Target = port, pr.Target+port-pr.Port
	return k
}

// Request is one project's reconciliation input.
type Request struct {
	Project string
	Dir     string
	// Engine is a remote engine's ID ("" for this machine's); Endpoint is
	// where it is reached now. A project recorded under Endpoint by a devenv
	// that keyed remote engines by endpoint is taken over by Engine.
	Engine   string
	Endpoint string
	Stack    string
	Ports    []PortRequest
	// Strict fails instead of moving a colliding request.
	Strict bool
	// Reassign moves the services in Only (all when empty) by the rules again.
	Reassign bool
	Only     []string
	// Adopt accepts a new directory for a project whose old one is gone.
	Adopt bool
	// Keep are services whose reservations stay as they are although the
	// file does not ask for them now (services of inactive profiles).
	Keep []string
	// Names are the project's HTTPS names, recorded with its reservations.
	Names []Name
	// Instance is the instance this project is ("" for a main checkout).
	Instance string
}

// Occupied reports who holds a port right now outside the registry: engine
// containers and host processes. It must leave out the requesting
// project's own containers.
type Occupied func(port int, protocol string) []Holder

// Remap is a request that got another port than it asked for.
type Remap struct {
	Service  string `json:"service"`
	Role     string `json:"role"`
	Target   int    `json:"target"`
	From     int    `json:"from"`
	To       int    `json:"to"`
	Because  Holder `json:"because"`
	Protocol string `json:"protocol"`
	// Changed is set when the file's request changed: From is the old
	// assignment, and the new request was reconciled anew.
	Changed bool `json:"changed,omitempty"`
	// Kept is an assignment made before devenv recorded requests, kept
	// although the file asks for another port.
	Kept bool `json:"kept,omitempty"`
}

func (m Remap) String() string {
	if m.Changed {
		return fmt.Sprintf("%s %d → %d: the file now asks for another port", m.Service, m.From, m.To)
	}
	if m.Kept {
		return fmt.Sprintf("%s %d → %d: kept from an earlier assignment; `devenv ports assign --reassign %s` follows the file", m.Service, m.From, m.To, m.Service)
	}
	return fmt.Sprintf("%s %d → %d: %d is %s", m.Service, m.From, m.To, m.From, m.Because)
}

// Result is the outcome of Reconcile.
type Result struct {
	Project *Project
	Remaps  []Remap
	Changed bool
}

// ConflictError is a port that cannot be used, naming who holds it.
type ConflictError struct {
	Project string
	Service string
	Port    int
	Proto   string
	Holder  Holder
	Sticky  bool
	Fix     string
}

func (e *ConflictError) Error() string {
	what := "requested"
	if e.Sticky {
		what = "assigned"
	}
	msg := fmt.Sprintf("service %s: %s port %d/%s is %s", e.Service, what, e.Port, e.Proto, e.Holder)
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// DirError is a project name already registered for another directory.
type DirError struct {
	Name, Registered, Dir string
	Moved                 bool
}

func (e *DirError) Unwrap() error { return errdefs.ErrInvalid }

func (e *DirError) Error() string {
	if e.Moved {
		return fmt.Sprintf("project %q is registered for %s, which no longer exists; if the project moved to %s, run `devenv ports assign --adopt` there to keep its ports", e.Name, e.Registered, e.Dir)
	}
	return fmt.Sprintf("project name %q is already used by %s; pick another name for %s with -p NAME (or COMPOSE_PROJECT_NAME)", e.Name, e.Registered, e.Dir)
}

// NameTakenError is a name another project already has: names are routed
// by host alone, so two projects cannot share one.
type NameTakenError struct {
	Host, Project, Dir string
}

func (e *NameTakenError) Unwrap() error { return errdefs.ErrInvalid }

func (e *NameTakenError) Error() string {
	return fmt.Sprintf("the name %s is taken by project %s (%s): give this service another with x-devenv.hostname, or free it with devenv ports release %s", e.Host, e.Project, e.Dir, e.Project)
}
