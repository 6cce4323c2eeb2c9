package dashboard

import (
	"fmt"
	"slices"
)

// explainMoves says, for each port that is not the one its file asks for,
// why: the reservation that holds the port asked for, or else that it was
// taken when devenv assigned this one (the assignment stays until released).
func explainMoves(ports []Port) {
	for i, p := range ports {
		if p.Requested == 0 || p.Requested == p.Port {
			continue
		}
		j := slices.IndexFunc(ports, func(o Port) bool {
			return o.Port == p.Requested && o.Protocol == p.Protocol && o.Engine == p.Engine && (o.Project != p.Project || o.Service != p.Service)
		})
		if j >= 0 {
			o := ports[j]
			ports[i].Moved = fmt.Sprintf("%d asked for; it is reserved by %s (service %s)", p.Requested, o.Project, o.Service)
			continue
		}
		ports[i].Moved = fmt.Sprintf("%d asked for; it was taken when devenv assigned %d (the assignment stays until devenv ports release)", p.Requested, p.Port)
	}
}
