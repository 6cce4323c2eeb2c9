package process

import (
	"os"
	"strconv"
	"strings"
)

// Processes lists the processes of the service's process group as ps -ef
// columns: UID, PID, PPID, CMD (the others as "-"), from /proc.
func (d Dir) Processes(project, name string) [][]string {
	st, _ := d.Read(project, name)
	if !groupAlive(st.PID, st.Start) {
		return nil
	}
	entries, _ := os.ReadDir("/proc")
	var out [][]string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || Group(pid) != st.PID {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		ppid := "-"
		if len(f) > 1 {
			ppid = f[1]
		}
		uid := "-"
		if status, err := os.ReadFile("/proc/" + e.Name() + "/status"); err == nil {
			for _, line := range strings.Split(string(status), "\n") {
				if v, ok := strings.CutPrefix(line, "Uid:"); ok && len(strings.Fields(v)) > 0 {
					uid = strings.Fields(v)[0]
				}
			}
		}
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out = append(out, []string{uid, e.Name(), ppid, "-", "-", "-", "-", strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))})
	}
	return out
}

// Usage is the CPU time (in clock ticks, 100 a second) and resident
// memory (bytes) of the service's process group now; ok is false when it
// does not run.
func (d Dir) Usage(project, name string) (ticks, rss uint64, ok bool) {
	st, _ := d.Read(project, name)
	if !groupAlive(st.PID, st.Start) {
		return 0, 0, false
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || Group(pid) != st.PID {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 22 {
			continue
		}
		utime, _ := strconv.ParseUint(f[11], 10, 64)
		stime, _ := strconv.ParseUint(f[12], 10, 64)
		pages, _ := strconv.ParseUint(f[21], 10, 64)
		ticks += utime + stime
		rss += pages * uint64(os.Getpagesize())
	}
	return ticks, rss, true
}
