// Package sockets lists the sockets listening on this machine with the
// process that holds each one, where the operating system lets us see it.
package sockets
