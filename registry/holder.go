package registry

import "fmt"

// Holder is whoever holds or claims a host port.
type Holder struct {
	Kind      string `json:"kind"` // project, container, process, unknown
	Project   string `json:"project,omitempty"`
	Dir       string `json:"directory,omitempty"`
	Service   string `json:"service,omitempty"`
	Container string `json:"container,omitempty"`
	PID       int    `json:"pid,omitempty"`
	Command   string `json:"command,omitempty"`
	// Engine is where a container or process is, or a project's engine,
	// when that is a remote engine (as Project.EngineLabel shows it);
	// EngineID is that engine's registry key, for comparisons (one engine
	// may be reached by more than one endpoint).
	Engine   string `json:"engine,omitempty"`
	EngineID string `json:"-"`
}

func (h Holder) on() string {
	if h.Engine == "" {
		return ""
	}
	return " on engine " + h.Engine
}

func (h Holder) String() string {
	switch h.Kind {
	case "project":
		s := "reserved by " + h.Project
		if h.Service != "" {
			s += " (service " + h.Service + ")"
		}
		if h.Dir != "" {
			s += " in " + h.Dir
		}
		return s + h.on()
	case "container":
		s := "held by container " + h.Container
		if h.Project != "" {
			s += " of compose project " + h.Project
		} else {
			s += " (not a compose project)"
		}
		return s + h.on()
	case "process":
		if h.Engine != "" {
			// Seen through the engine: its host's sockets, not its processes.
			return "held by a process on the host of engine " + h.Engine + " (not a container; devenv cannot name it from here)"
		}
		if h.PID == 0 {
			return "held by a process devenv cannot see (run as root, or check with lsof)"
		}
		if h.Project != "" && h.Command == "" {
			return fmt.Sprintf("held by process %d (devenv's, for project %s)", h.PID, h.Project)
		}
		return fmt.Sprintf("held by process %d (%s)", h.PID, h.Command)
	}
	return "held by something devenv cannot identify"
}
