package cfjs1exporter

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
)

var (
	errAckTimeout = errors.New("no acknowledgement within ack.timeout")
	errClosed     = errors.New("connection closed")
)

// peer is one connection to an endpoint. Writers share it (writes are
// serialised); a reader goroutine takes the acks; with acks on, a
// heartbeat pings it so that a peer that stopped handling data is found
// even when nothing is being sent.
type peer struct {
	nc     net.Conn
	ack    bool
	cfg    *Config
	window uint64

	wmu  sync.Mutex // serialises writes and sent
	sent uint64     // data lines written

	mu     sync.Mutex
	acked  uint64        // highest ack received
	acks   uint64        // ack lines received
	notify chan struct{} // closed and replaced on every ack
	dead   chan struct{} // closed once the connection failed
	err    error

	done chan struct{} // closed when the reader and heartbeat have ended
}

// dialPeer connects with every guard set: connect timeout, keepalive,
// TCP_USER_TIMEOUT, TLS handshake deadline and, with acks, the hello
// answered within ack.timeout.
func dialPeer(ctx context.Context, cfg *Config, ep EndpointConfig, tlsCfg *tls.Config) (*peer, error) {
	cc := cfg.Connection
	d := net.Dialer{
		Timeout: cc.ConnectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable: true, Idle: cc.KeepAlive, Interval: cc.KeepAlive, Count: cc.KeepAliveCount,
		},
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(cc.UserTimeout.Milliseconds()))
			})
			return errors.Join(err, serr)
		},
	}
	nc, err := d.DialContext(ctx, "tcp", ep.Endpoint)
	if err != nil {
		return nil, err
	}
	if tlsCfg != nil {
		tc := tls.Client(nc, tlsCfg)
		_ = tc.SetDeadline(time.Now().Add(cc.ConnectTimeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		_ = tc.SetDeadline(time.Time{})
		nc = tc
	}
	p := &peer{nc: nc, ack: cfg.ackFor(ep), cfg: cfg, window: uint64(cfg.Ack.Window),
		notify: make(chan struct{}), dead: make(chan struct{}), done: make(chan struct{})}
	if !p.ack {
		go p.readLoop(nil)
		return p, nil
	}
	if err := p.write([]byte(cfjs1.HelloLine)); err != nil {
		return nil, err
	}
	hb := make(chan struct{})
	go p.readLoop(hb)
	if err := p.waitFor(ctx, cfg.Ack.Timeout, func() bool { return p.acks >= 1 }); err != nil {
		p.close(err)
		return nil, fmt.Errorf("hello not answered (is the endpoint a cfjs1 receiver? else set ack: false): %w", err)
	}
	go p.heartbeat(hb)
	return p, nil
}

func (p *peer) write(b []byte) error {
	_ = p.nc.SetWriteDeadline(time.Now().Add(p.cfg.Connection.WriteTimeout))
	_, err := p.nc.Write(b)
	if err != nil {
		p.close(err)
	}
	return err
}

// send writes lines (n of them) and, with acks, returns once they are
// acknowledged. Any error leaves the connection closed.
func (p *peer) send(ctx context.Context, lines []byte, n int) error {
	p.wmu.Lock()
	if p.ack && n > 0 {
		// Window: wait until this batch fits in flight.
		limit := p.sent + uint64(n)
		if limit > p.window {
			need := limit - p.window
			if err := p.waitFor(ctx, p.cfg.Ack.Timeout, func() bool { return p.acked >= need }); err != nil {
				p.wmu.Unlock()
				p.close(err)
				return err
			}
		}
	}
	if err := p.write(lines); err != nil {
		p.wmu.Unlock()
		return err
	}
	p.sent += uint64(n)
	target := p.sent
	p.wmu.Unlock()
	if !p.ack {
		return nil
	}
	err := p.waitFor(ctx, p.cfg.Ack.Timeout, func() bool { return p.acked >= target })
	if err != nil && !errors.Is(err, context.Canceled) {
		p.close(err)
	}
	return err
}

// waitFor waits until cond (checked under p.mu) holds, the connection
// dies, ctx ends or timeout passes.
func (p *peer) waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		p.mu.Lock()
		ok, notify, err := cond(), p.notify, p.err
		p.mu.Unlock()
		if ok {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-notify:
		case <-p.dead:
		case <-timer.C:
			return errAckTimeout
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// readLoop takes acks until the connection ends. A peer that is not asked
// for acks should send nothing; anything it sends is ignored, but its
// closing the connection is noticed here.
func (p *peer) readLoop(hbStop chan struct{}) {
	defer func() {
		if hbStop != nil {
			close(hbStop)
		} else {
			close(p.done)
		}
	}()
	br := bufio.NewReaderSize(p.nc, 4096)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				p.close(errors.New("peer sent an over-long line"))
				return
			}
			p.close(fmt.Errorf("connection lost: %w", err))
			return
		}
		if !p.ack {
			continue
		}
		n, err := cfjs1.ParseAck(line)
		if err != nil {
			p.close(err)
			return
		}
		p.mu.Lock()
		if n > p.acked {
			p.acked = n
		}
		p.acks++
		close(p.notify)
		p.notify = make(chan struct{})
		p.mu.Unlock()
	}
}

// heartbeat pings every interval and requires the answer within
// ack.timeout: the check a peer that accepts bytes but handles none fails.
func (p *peer) heartbeat(readerDone chan struct{}) {
	defer func() {
		<-readerDone
		close(p.done)
	}()
	t := time.NewTicker(p.cfg.Ack.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-p.dead:
			return
		case <-t.C:
		}
		p.mu.Lock()
		before := p.acks
		p.mu.Unlock()
		p.wmu.Lock()
		err := p.write([]byte(cfjs1.PingLine))
		target := p.sent
		p.wmu.Unlock()
		if err != nil {
			return
		}
		err = p.waitFor(context.Background(), p.cfg.Ack.Timeout, func() bool { return p.acks > before && p.acked >= target })
		if err != nil {
			p.close(fmt.Errorf("heartbeat: %w", err))
			return
		}
	}
}

// close marks the connection failed (first error wins) and closes it.
func (p *peer) close(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return
	}
	if err == nil {
		err = errClosed
	}
	p.err = err
	close(p.dead)
	_ = p.nc.Close()
}

// failure returns why the connection died (nil while alive).
func (p *peer) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
