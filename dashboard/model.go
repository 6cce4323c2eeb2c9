package dashboard

import (
	"context"
	"time"
)

// Machine is what the page shows: every project devenv knows, on this
// machine's engine and on remote ones, and the cross-project port map.
type Machine struct {
	Projects []Project `json:"projects"`
	Ports    []Port    `json:"ports"`
	// Notes say what could not be asked (an engine that does not answer).
	Notes []string  `json:"notes,omitempty"`
	Taken time.Time `json:"taken"`
}

// Project is a project or instance with its services.
type Project struct {
	Name     string    `json:"name"`
	Instance string    `json:"instance,omitempty"`
	Status   string    `json:"status"`
	Dir      string    `json:"directory"`
	Engine   string    `json:"engine,omitempty"`
	URL      string    `json:"url,omitempty"`
	Services []Service `json:"services"`
}

// Service is a container or host service as ps shows it, with what ps
// leaves out: uptime, restarts, resource use, a crashed one's last lines.
type Service struct {
	Name string `json:"name"`
	// ID is a container's (short) ID, "" for a host service.
	ID string `json:"id,omitempty"`
	// Host marks a host service (a supervised process, not a container).
	Host     bool   `json:"host"`
	State    string `json:"state"`
	Health   string `json:"health,omitempty"`
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	// Since is when it started running (zero when it does not run).
	Since    time.Time `json:"since,omitzero"`
	Restarts int       `json:"restarts"`
	Ports    []string  `json:"ports,omitempty"`
	URLs     []string  `json:"urls,omitempty"`
	// CPU and Memory are the last sample ("" before one was taken).
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
	// Tail is a dead service's last log lines.
	Tail []string `json:"tail,omitempty"`
	// Connect says connect --url can give a URL for it.
	Connect bool `json:"connect,omitempty"`
}

// Crashed says the service stopped on its own with an error.
func (s Service) Crashed() bool {
	return (s.State == "exited" || s.State == "dead" || s.State == "failed") && s.ExitCode != 0
}

// Port is one reservation of the port map, with why it moved.
type Port struct {
	Project   string   `json:"project"`
	Instance  string   `json:"instance,omitempty"`
	Service   string   `json:"service"`
	Host      bool     `json:"host_service"`
	Role      string   `json:"role"`
	HostIP    string   `json:"host_ip"`
	Port      int      `json:"port"`
	Requested int      `json:"requested,omitempty"`
	Target    int      `json:"target"`
	Protocol  string   `json:"protocol"`
	Holder    string   `json:"holder"`
	Conflict  bool     `json:"conflict"`
	Engine    string   `json:"engine,omitempty"`
	URLs      []string `json:"urls,omitempty"`
	// Moved says why the port is not the one the file asks for ("" when
	// it is).
	Moved string `json:"moved,omitempty"`
}

// Action is what a button asks for: a CLI command on a project, or on one
// of its services.
type Action struct {
	Project string `json:"project"`
	// Engine is the project's remote engine, as ls names it ("" for this
	// machine's): one name may be a project on two engines.
	Engine  string `json:"engine,omitempty"`
	Service string `json:"service,omitempty"`
	Verb    string `json:"action"`
}

// projectVerbs and serviceVerbs are the actions the page offers, as the
// CLI's commands of the same name.
var (
	projectVerbs = []string{"up", "stop", "restart", "down"}
	serviceVerbs = []string{"start", "stop", "restart"}
)

// Source is where the dashboard gets what it shows and how it acts: the
// command line, so that each answer has the CLI's shape and each action
// runs what the CLI runs.
type Source interface {
	// Machine is a fresh picture of every project.
	Machine(ctx context.Context) (*Machine, error)
	// API answers GET /api/NAME (ls, ps, ports, health) with the CLI's
	// --format json values; query holds project= where one is needed.
	API(ctx context.Context, name string, query map[string]string) (any, error)
	// Changes sends when something the page shows may have changed: an
	// engine event, the registry, a host service's state. It ends with ctx.
	Changes(ctx context.Context) <-chan struct{}
	// Logs streams a service's (or, without a service, the project's
	// merged) log lines, the last tail first, until ctx ends.
	Logs(ctx context.Context, of Action, tail int, line func(string)) error
	// Run runs the action as the CLI does, its output line by line, and
	// returns the CLI's exit code.
	Run(ctx context.Context, a Action, line func(string)) (int, error)
	// ConnectURL is connect --url of the service.
	ConnectURL(ctx context.Context, of Action) (string, error)
}
