package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/devenv-dev/devenv/orchestrator"
	"github.com/docker/go-units"
)

// psRow is compose's `ps --format json` object.
type psRow struct {
	Command      string      `json:"Command"`
	CreatedAt    string      `json:"CreatedAt"`
	Engine       string      `json:"Engine"`
	ExitCode     int         `json:"ExitCode"`
	Health       string      `json:"Health"`
	ID           string      `json:"ID"`
	Image        string      `json:"Image"`
	Labels       string      `json:"Labels"`
	LocalVolumes string      `json:"LocalVolumes"`
	Mounts       string      `json:"Mounts"`
	Name         string      `json:"Name"`
	Names        string      `json:"Names"`
	Networks     string      `json:"Networks"`
	Ports        string      `json:"Ports"`
	Project      string      `json:"Project"`
	Publishers   []publisher `json:"Publishers"`
	RunningFor   string      `json:"RunningFor"`
	Service      string      `json:"Service"`
	Size         string      `json:"Size"`
	State        string      `json:"State"`
	Status       string      `json:"Status"`
	// PID is a host service's process (devenv's key; containers omit it).
	PID int `json:"PID,omitempty"`
	// Host marks a host service row (devenv's key).
	Host bool `json:"Host,omitempty"`
	// URL is the service's name (https://SERVICE.PROJECT.localhost) and
	// URLs all of its names (devenv's keys; Publishers[].URL keeps
	// compose's meaning).
	URL  string   `json:"URL,omitempty"`
	URLs []string `json:"URLs,omitempty"`
}

type publisher struct {
	URL           string `json:"URL"`
	TargetPort    int    `json:"TargetPort"`
	PublishedPort int    `json:"PublishedPort"`
	Protocol      string `json:"Protocol"`
}

// rowOf is a container as compose's ps prints it: the ID, command and
// mount names shortened unless noTrunc.
func rowOf(ct orchestrator.Container, noTrunc bool) psRow {
	r := psRow{
		ID: ct.ID, Command: ct.Command, Networks: strings.Join(ct.Networks, ","), Size: "0B", Name: ct.Name, Names: ct.Name, Image: ct.Image, Project: ct.Labels[orchestrator.LabelProject],
		Service: ct.Labels[orchestrator.LabelService], State: ct.State, Status: ct.Status, Health: ct.Health,
		ExitCode: ct.ExitCode, CreatedAt: ct.Created.Format("2006-01-02 15:04:05 -0700 MST"),
		RunningFor: humanSince(ct.Created), Ports: portsText(ct.Ports), Publishers: []publisher{},
	}
	var labels []string
	for k, v := range ct.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	r.Labels = strings.Join(labels, ",")
	for _, pb := range ct.Ports {
		port, _ := strconv.Atoi(pb.HostPort)
		r.Publishers = append(r.Publishers, publisher{URL: pb.HostIP, TargetPort: pb.Target, PublishedPort: port, Protocol: pb.Protocol})
	}
	sort.Slice(r.Publishers, func(i, j int) bool { return r.Publishers[i].TargetPort < r.Publishers[j].TargetPort })
	var mounts []string
	local := 0
	for _, m := range ct.Mounts {
		name := m.Source
		if m.Type == "volume" && m.Driver == "local" {
			local++
		}
		if !noTrunc {
			name = ellipsis(name, 15)
		}
		mounts = append(mounts, name)
	}
	r.Mounts, r.LocalVolumes = strings.Join(mounts, ","), strconv.Itoa(local)
	if !noTrunc {
		r.ID, r.Command = ct.ID[:min(12, len(ct.ID))], ellipsis(ct.Command, 20)
	}
	r.Command = strconv.Quote(r.Command)
	return r
}

// ellipsis shortens s to n characters, the last one "…", as docker does.
func ellipsis(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

// hostRowOf renders a host service with compose's ps keys (Image "-",
// Name "host:NAME") plus its pid.
func hostRowOf(project string, h orchestrator.HostStatus) psRow {
	r := psRow{Name: "host:" + h.Service, Names: "host:" + h.Service, Image: "-", Project: project, Service: h.Service,
		Publishers: []publisher{{URL: "127.0.0.1", TargetPort: h.Port, PublishedPort: h.Port, Protocol: "tcp"}},
		Ports:      fmt.Sprintf("127.0.0.1:%d->%d/tcp", h.Port, h.Port), PID: h.State.PID, Host: true}
	if h.Port == 0 { // an orphan: its port is no longer known
		r.Publishers, r.Ports = nil, ""
	}
	r.State, r.Status, r.Health = hostStatus(h)
	if h.Orphan {
		r.Status += ", orphan: not in the compose file"
		r.Health = ""
	}
	if h.Known && !h.State.StartedAt.IsZero() {
		r.CreatedAt, r.RunningFor = h.State.StartedAt.Format("2006-01-02 15:04:05 -0700 MST"), humanSince(h.State.StartedAt)
	}
	return r
}

// hostStatus is a host service's state, status text and health.
func hostStatus(h orchestrator.HostStatus) (state, status, health string) {
	health = "unhealthy"
	if h.Listening {
		health = "healthy"
	}
	state = h.StateName()
	switch {
	case !h.Managed && h.Listening:
		return state, "listening (not run by devenv)", health
	case !h.Managed:
		return state, "not listening (not run by devenv)", health
	case !h.Known && (h.State.Status == "failed" || h.State.Status == "exited"):
		return state, fmt.Sprintf("%s (exit code %d)", h.State.Status, h.State.ExitCode), health
	case !h.Known:
		return state, "not running", health
	case h.State.Running:
		up := "Up " + strings.TrimSuffix(humanSince(h.State.StartedAt), " ago")
		if h.State.Restarts > 0 {
			up += fmt.Sprintf(", %d restarts", h.State.Restarts)
		}
		return state, fmt.Sprintf("%s (pid %d)", up, h.State.PID), health
	}
	return state, fmt.Sprintf("%s (exit code %d)", h.State.Status, h.State.ExitCode), health
}

func writePsJSON(w io.Writer, res *orchestrator.PsResult, project string, noTrunc bool) error {
	enc := json.NewEncoder(w)
	for _, ct := range res.Containers {
		row := rowOf(ct, noTrunc)
		row.Engine = res.Engine
		row.URL, row.URLs = firstOf(res.URLs[row.Service]), res.URLs[row.Service]
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	for _, h := range res.Host {
		row := hostRowOf(project, h)
		row.URL, row.URLs = firstOf(res.URLs[h.Service]), res.URLs[h.Service]
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	return nil
}

// writePsTable is compose's ps table; on a remote engine with an ENGINE
// column (containers there, host services here) and whether the
// containers' ports are forwarded here.
func writePsTable(w io.Writer, res *orchestrator.PsResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	col := engineCell(res.Engine != "")
	uc := urlCell(len(res.URLs) > 0)
	url := func(service string) string { return uc.of(firstOf(res.URLs[service])) }
	fmt.Fprintf(tw, "NAME\tIMAGE\tSERVICE\t%sSTATUS\tPORTS%s\n", col.header(), uc.header())
	for _, ct := range res.Containers {
		ports := portsText(ct.Ports)
		tcp := slices.ContainsFunc(ct.Ports, func(pb orchestrator.PortBinding) bool { return pb.HostPort != "" && pb.Protocol == "tcp" })
		if res.Engine != "" && tcp && ct.State == "running" {
			if res.Forwarding {
				ports += " (forwarded here)"
			} else {
				ports += " (not forwarded here: run devenv up)"
			}
		}
		svc := ct.Labels[orchestrator.LabelService]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\t%s%s\n", ct.Name, ct.Image, svc, col.of(res.Engine), ct.Status, ports, url(svc))
	}
	for _, h := range res.Host {
		_, status, health := hostStatus(h)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\t127.0.0.1:%d%s\n", "(host) "+h.Service, "-", h.Service, col.of(""), status+" ("+health+")", h.Port, url(h.Service))
	}
	return tw.Flush()
}

// portsText renders bindings like docker: 127.0.0.1:5434->5432/tcp.
func portsText(ps []orchestrator.PortBinding) string {
	var out []string
	seen := map[string]bool{}
	for _, p := range ps {
		var s string
		if p.HostPort == "" {
			s = fmt.Sprintf("%d/%s", p.Target, p.Protocol)
		} else {
			ip := p.HostIP
			if ip == "::" {
				ip = "[::]"
			}
			s = fmt.Sprintf("%s:%s->%d/%s", ip, p.HostPort, p.Target, p.Protocol)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func humanSince(t time.Time) string {
	return units.HumanDuration(time.Since(t)) + " ago" // docker's words
}

var containerStates = []string{"created", "restarting", "running", "removing", "paused", "exited", "dead"}

// firstOf is a list's first string, "" for none.
func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// urlCell is the last column of a table, URL, shown where any row has a
// name.
type urlCell bool

func (u urlCell) header() string {
	if u {
		return "\tURL"
	}
	return ""
}

func (u urlCell) of(url string) string {
	if u {
		return "\t" + url
	}
	return ""
}
