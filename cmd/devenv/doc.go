// Command devenv runs the Docker side of many local projects at once without
// port conflicts. This package is only wiring: flags into options structs,
// one call into the orchestrator, rendering, and the exit-code mapping.
package main
