// Package testutil holds small helpers shared by the tests of several
// components.
package testutil // import "github.com/otelcol-logx/otelcol-logx/internal/testutil"

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FreeTCPAddr returns a loopback address with a port that was free a moment
// ago, for a component or a process under test to listen on. The port
// comes from below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), which is where the kernel picks both port
// 0 binds and the source ports of outgoing connections: a port found free
// there can become some connection's source port before the listener under
// test binds it (EADDRINUSE, seen in CI). No port is handed out twice by
// one test binary. Where the ephemeral range leaves no room below it, the
// kernel picks.
func FreeTCPAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreeTCPPort(t))
}

// FreeTCPPort is FreeTCPAddr's port alone, for configs that take the host
// and the port apart (the collector's Prometheus reader).
func FreeTCPPort(t testing.TB) int {
	t.Helper()
	low := ephemeralLow()
	if low < portsFrom+1000 {
		p, err := listenAndClose(0)
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		return p
	}
	ports.Lock()
	defer ports.Unlock()
	if ports.next == 0 {
		// A random start: the test binaries of other packages, run
		// beside this one, scan other ports.
		ports.next = portsFrom + int(time.Now().UnixNano()%int64(low-portsFrom))
	}
	for range low - portsFrom {
		p := ports.next
		ports.next++
		if ports.next >= low {
			ports.next = portsFrom
		}
		if _, err := listenAndClose(p); err == nil {
			return p
		}
	}
	t.Fatalf("no free port in %d..%d", portsFrom, low-1)
	return 0
}

// portsFrom is the lowest port FreeTCPPort hands out.
const portsFrom = 20000

// ports is where FreeTCPPort goes on.
var ports struct {
	sync.Mutex
	next int
}

// ephemeralLow is the first port of the kernel's ephemeral range (0 if it
// cannot be read).
func ephemeralLow() int {
	b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	low, _ := strconv.Atoi(f[0])
	return low
}

// listenAndClose listens on loopback port p (0: the kernel picks) and
// returns the port.
func listenAndClose(p int) (int, error) {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}
