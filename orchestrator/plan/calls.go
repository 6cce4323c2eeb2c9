package plan

import "fmt"

// Call is one engine call of an up step: the planner lists them, the
// executor makes them in order.
type Call struct {
	Op   CallOp
	Name string // the container's name when the call is made
	To   string // rename's new name
}

// CallOp is what a call asks of the engine.
type CallOp string

// The calls that bring one service's container to its planned state.
const (
	CallStop   CallOp = "stop"
	CallRename CallOp = "rename"
	CallCreate CallOp = "create"
	CallRemove CallOp = "remove"
	CallStart  CallOp = "start"
	// CallCheckPorts inspects a started container for the ports it should
	// publish: Engine 29 starts a container whose earlier start failed on
	// a taken port without any of them. When they are missing, the
	// service is planned again from what the inspect saw.
	CallCheckPorts CallOp = "inspect"
)

func (c Call) String() string {
	switch c.Op {
	case CallRename:
		return fmt.Sprintf("rename %s to %s", c.Name, c.To)
	case CallCheckPorts:
		return fmt.Sprintf("inspect %s (are its ports published?)", c.Name)
	}
	return string(c.Op) + " " + c.Name
}

// ContainerCalls are the engine calls of one container step of an up plan.
func ContainerCalls(ds *DesiredService, s Step) []Call {
	var calls []Call
	start := func(name string, check bool) {
		if s.NoStart {
			return
		}
		calls = append(calls, Call{Op: CallStart, Name: name})
		if check && len(ds.Spec.Ports) > 0 {
			calls = append(calls, Call{Op: CallCheckPorts, Name: name})
		}
	}
	switch s.Action {
	case ActStart:
		start(s.Name, true)
	case ActCreate:
		calls = append(calls, Call{Op: CallCreate, Name: ds.Spec.Name})
		start(ds.Spec.Name, true)
	case ActRestart:
		calls = append(calls, Call{Op: CallStop, Name: s.Name})
		start(s.Name, true)
	case ActRecreate:
		old := s.Existing.Name
		aside := ShortID(s.Existing.ID) + "_" + old
		calls = append(calls, Call{Op: CallStop, Name: old}, Call{Op: CallRename, Name: old, To: aside},
			Call{Op: CallCreate, Name: ds.Spec.Name}, Call{Op: CallRemove, Name: aside})
		start(ds.Spec.Name, false)
	}
	return calls
}

// ShortID is the 12 characters the engine shows of an ID.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// CarryAnonymous gives the new container the old one's anonymous volumes
// (those not named in the spec) at the same paths.
func CarryAnonymous(spec []Mount, old []Mount) []Mount {
	out := make([]Mount, 0, len(spec)+len(old))
	covered := map[string]bool{}
	for _, m := range spec {
		covered[m.Target] = true
	}
	oldAt := map[string]Mount{}
	for _, m := range old {
		if m.Type == "volume" && IsAnonymous(m.Source) {
			oldAt[m.Target] = m
		}
	}
	for _, m := range spec {
		if m.Type == "volume" && m.Source == "" {
			if om, ok := oldAt[m.Target]; ok {
				m.Source = om.Source
			}
		}
		out = append(out, m)
	}
	for _, m := range old {
		if m.Type == "volume" && IsAnonymous(m.Source) && !covered[m.Target] {
			out = append(out, Mount{Type: "volume", Source: m.Source, Target: m.Target})
		}
	}
	return out
}

func IsAnonymous(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, r := range name {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
