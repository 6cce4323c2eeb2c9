// Package proxy is devenv's per-user reverse proxy: it serves
// https://SERVICE.PROJECT.localhost names on this machine's loopback,
// routed from the registry's names to the ports its reservations hold and
// following the registry file live, with certificates from devenv's own
// local CA. It streams (WebSockets, server-sent events, downloads), keeps
// the Host and sets X-Forwarded-*, refuses loops (508), answers an unknown
// name with the names it serves (404) and a service that does not answer
// with its state (502). Its plain HTTP side redirects to HTTPS.
package proxy
