// Package process supervises host services: each runs under a small
// detached supervisor (devenv re-executed with DEVENV_SUPERVISE set) that
// owns the child's process group, its log file and its restarts, and keeps
// a state file the next devenv command reads. A pid is only ever signalled
// after its start time matches the one recorded, so a reused pid is never
// touched.
package process
