package process

import (
	"os"
	"strconv"
	"strings"
)

// eachInGroup calls fn with each process of the service's process group:
// its PID and the fields of /proc/PID/stat after the command name (state
// first). It says whether the group runs.
func (d Dir) eachInGroup(project, name string, fn func(pid string, stat []string)) bool {
	st, _ := d.Read(project, name)
	if !groupAlive(st.PID, st.Start) {
		return false
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
		fn(e.Name(), strings.Fields(s[strings.LastIndexByte(s, ')')+1:]))
	}
	return true
}

// Processes lists the processes of the service's process group as ps -ef
// columns: UID, PID, PPID, CMD (the others as "-"), from /proc.
func (d Dir) Processes(project, name string) [][]string {
	var out [][]string
	d.eachInGroup(project, name, func(pid string, f []string) {
		ppid := "-"
		if len(f) > 1 {
			ppid = f[1]
		}
		uid := "-"
		if status, err := os.ReadFile("/proc/" + pid + "/status"); err == nil {
			for _, line := range strings.Split(string(status), "\n") {
				if v, ok := strings.CutPrefix(line, "Uid:"); ok && len(strings.Fields(v)) > 0 {
					uid = strings.Fields(v)[0]
				}
			}
		}
		cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		out = append(out, []string{uid, pid, ppid, "-", "-", "-", "-", strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))})
	})
	return out
}

// Usage is the CPU time (in clock ticks, 100 a second) and resident
// memory (bytes) of the service's process group now; ok is false when it
// does not run.
func (d Dir) Usage(project, name string) (ticks, rss uint64, ok bool) {
	ok = d.eachInGroup(project, name, func(_ string, f []string) {
		if len(f) < 22 {
			return
		}
		utime, _ := strconv.ParseUint(f[11], 10, 64)
		stime, _ := strconv.ParseUint(f[12], 10, 64)
		pages, _ := strconv.ParseUint(f[21], 10, 64)
		ticks += utime + stime
		rss += pages * uint64(os.Getpagesize())
	})
	return ticks, rss, ok
}
