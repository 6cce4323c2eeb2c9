// Package testbed gives devenv's tests a real Docker engine and the images
// they need, built locally (nothing can be pulled) and cached by content.
package testbed
