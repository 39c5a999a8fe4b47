package e2e

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// halfAliveProxy forwards TCP to a backend until it is stalled; stalled,
// it still accepts connections and reads everything sent, but forwards
// nothing either way: a peer whose TCP is fine and which handles no data,
// the failure an exporter without acks cannot see.
type halfAliveProxy struct {
	ln      net.Listener
	backend string
	stalled atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
	wg      sync.WaitGroup
}

func newHalfAliveProxy(t *testing.T, backend string) *halfAliveProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &halfAliveProxy{ln: ln, backend: backend, conns: []net.Conn{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *halfAliveProxy) addr() string { return p.ln.Addr().String() }

// stall stops forwarding; unstall resumes it for new connections (the
// stalled ones were black holes and stay so).
func (p *halfAliveProxy) stall()   { p.stalled.Store(true) }
func (p *halfAliveProxy) unstall() { p.stalled.Store(false) }

func (p *halfAliveProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *halfAliveProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			_ = c.Close()
			return
		}
		var b net.Conn
		if !p.stalled.Load() {
			b, err = net.Dial("tcp", p.backend)
			if err != nil || !p.track(b) {
				_ = c.Close()
				continue
			}
		}
		p.wg.Add(2)
		go p.pipe(c, b) // client to backend
		go p.pipe(b, c) // backend to client
	}
}

// pipe copies from src to dst while not stalled; stalled, it reads and
// drops. A nil end is a connection accepted while stalled.
func (p *halfAliveProxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	if src == nil {
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && dst != nil && !p.stalled.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				_ = src.Close()
				return
			}
		}
		if err != nil {
			if dst != nil && err == io.EOF {
				_ = dst.Close()
			}
			return
		}
	}
}

func (p *halfAliveProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
