// Package archive moves files between this machine and a container as the
// tar streams the Engine API takes and gives: Pack tars a host path (modes
// and symlinks kept, links not followed), Unpack extracts into a directory
// without ever leaving it or writing through a symlink.
package archive
