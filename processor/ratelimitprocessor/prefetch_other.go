//go:build !amd64

package ratelimitprocessor

// prefetchLine does nothing on this architecture.
func prefetchLine(uintptr) {}
