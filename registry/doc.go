// Package registry owns the cross-project port registry: its model, the
// allocation and conflict rules as pure functions, and a small locked,
// atomic file layer.
package registry
