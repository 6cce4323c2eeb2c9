package plan

// Labels docker compose v2 sets; devenv sets them the same way so that the
// two tools see each other's containers.
const (
	LabelProject     = "com.docker.compose.project"
	LabelService     = "com.docker.compose.service"
	LabelNumber      = "com.docker.compose.container-number"
	LabelOneoff      = "com.docker.compose.oneoff"
	LabelConfigHash  = "com.docker.compose.config-hash"
	LabelWorkingDir  = "com.docker.compose.project.working_dir"
	LabelConfigFiles = "com.docker.compose.project.config_files"
	LabelEnvFile     = "com.docker.compose.project.environment_file"
	LabelDependsOn   = "com.docker.compose.depends_on"
	LabelImage       = "com.docker.compose.image"
	LabelVersion     = "com.docker.compose.version"
	LabelNetwork     = "com.docker.compose.network"
	LabelVolume      = "com.docker.compose.volume"

	// LabelPorts records the host bindings devenv applied, so a remap or a
	// change of bind address recreates the container.
	LabelPorts = "dev.devenv.ports"
	// LabelManaged marks containers devenv created.
	LabelManaged = "dev.devenv.managed"
)

// ComposeVersion is written to com.docker.compose.version: the compose
// release whose labelling devenv follows.
const ComposeVersion = "2.40.0"
