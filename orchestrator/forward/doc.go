// Package forward makes a remote engine's published ports reachable on this
// machine: the forward, a long-running process under devenv's host-service
// supervisor, listens on 127.0.0.1 at each assigned port and carries every
// connection through the engine's own API connection to the relay, devenv
// itself running inside a small container on the engine's host, which
// dials the port on that host's loopback. The relay also lists the
// engine host's listening sockets, so ports held there are found before
// anything is created.
package forward
