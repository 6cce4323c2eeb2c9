// Package dashboard is devenv ui's web page and JSON API: one live picture
// of every project, service, port, name and log devenv knows, with the
// CLI's actions. It owns the HTTP side (the page, /api/, server-sent
// events) and its guards (Host, Origin, the per-user token); what it shows
// and runs comes from a Source the command line supplies.
package dashboard
