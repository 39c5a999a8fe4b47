// Package testutil holds small helpers shared by the tests of several
// components.
package testutil // import "github.com/otelcol-logx/otelcol-logx/internal/testutil"

import (
	"net"
	"testing"
)

// FreeTCPAddr returns a loopback address with a port that was free a moment
// ago (the listener that found it is closed before returning).
func FreeTCPAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("closing probe listener: %v", err)
	}
	return addr
}

// FreeTCPPort is FreeTCPAddr's port alone, for configs that take the host
// and the port apart (the collector's Prometheus reader).
func FreeTCPPort(t testing.TB) int {
	t.Helper()
	addr, err := net.ResolveTCPAddr("tcp", FreeTCPAddr(t))
	if err != nil {
		t.Fatalf("parsing a free address: %v", err)
	}
	return addr.Port
}
