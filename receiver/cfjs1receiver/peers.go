package cfjs1receiver

import (
	"net"
	"net/netip"
	"sync"
)

// peerCounts counts open connections by source IP address, so that one
// host (a broken sender reconnecting in a loop, or a hostile one) gets at
// most its share of max_connections.
type peerCounts struct {
	mu  sync.Mutex
	max int
	n   map[netip.Addr]int
}

func newPeerCounts(max int) *peerCounts {
	return &peerCounts{max: max, n: map[netip.Addr]int{}}
}

// add counts a connection of peer unless it has max already.
func (p *peerCounts) add(peer netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[peer] >= p.max {
		return false
	}
	p.n[peer]++
	return true
}

func (p *peerCounts) remove(peer netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[peer] <= 1 {
		delete(p.n, peer) // the map holds only peers with connections
		return
	}
	p.n[peer]--
}

// busiest is the most connections one peer has open.
func (p *peerCounts) busiest() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	most := 0
	for _, n := range p.n {
		most = max(most, n)
	}
	return int64(most)
}

// peerOf is the source IP address of c (IPv4-mapped IPv6 as IPv4, so one
// host is one peer whichever way it connected).
func peerOf(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
