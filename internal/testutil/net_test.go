package testutil

import (
	"net"
	"strconv"
	"testing"
)

// TestFreeTCPPortIsOutsideTheEphemeralRange: the ports handed out are
// below the range the kernel takes source ports from, distinct, and free.
func TestFreeTCPPortIsOutsideTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	if low < portsFrom+1000 {
		t.Logf("ephemeral range starts at %d: the kernel picks, as before", low)
	}
	seen := map[int]bool{}
	for range 50 {
		p := FreeTCPPort(t)
		if low >= portsFrom+1000 && (p < portsFrom || p >= low) {
			t.Fatalf("port %d outside %d..%d", p, portsFrom, low-1)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		l.Close()
	}
}
