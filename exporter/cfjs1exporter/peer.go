package cfjs1exporter

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
)

var (
	errAckTimeout = errors.New("no acknowledgement within ack.timeout")
	errClosed     = errors.New("connection closed")
	// errProtocol: the peer wrote something the protocol does not allow.
	errProtocol = errors.New("protocol error")
)

// peer is one connection to an endpoint. Writers share it (writes are
// serialised); a reader goroutine takes the acks and rejects; with acks
// on, a heartbeat pings it so that a peer that stopped handling data is
// found even when nothing is being sent.
type peer struct {
	nc     net.Conn
	ack    bool
	cfg    *Config
	window uint64

	wmu  sync.Mutex // serialises writes and sent
	sent uint64     // data lines written
	// issued is sent plus the lines being written: set before the write,
	// since the peer's reply to a line may arrive before the write returns.
	// No reply may name a line beyond it.
	issued atomic.Uint64

	mu         sync.Mutex
	acked      uint64        // highest ack received
	acks       uint64        // ack lines received
	lastReject uint64        // line of the last reject received
	inflight   []*inflight   // batches waiting for their acks, in line order
	notify     chan struct{} // closed and replaced on every ack
	dead       chan struct{} // closed once the connection failed
	err        error

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
	p := &peer{nc: nc, ack: cfg.ackFor(ep), cfg: cfg, window: uint64(cfg.Ack.Window), //nolint:gosec // G115: Validate keeps ack.window positive
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
	go p.heartbeat(hb) //nolint:gosec // G118: the heartbeat lives as long as the peer, not the dial's context
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
// acknowledged, with the counts by reason of those the receiver rejected
// (protocol version 2): settled, not delivered, and not to be sent again.
// Any error leaves the connection closed.
func (p *peer) send(ctx context.Context, lines []byte, n int) ([]rejectCount, error) {
	p.wmu.Lock()
	if p.ack && n > 0 {
		// Window: wait until this batch fits in flight. A batch larger
		// than the window can never fit: it goes alone, once every line
		// before it is acknowledged (waiting for more would wait for
		// acknowledgements of lines not sent, for ever).
		limit := p.sent + uint64(n)
		if limit > p.window {
			need := min(limit-p.window, p.sent)
			if err := p.waitFor(ctx, p.cfg.Ack.Timeout, func() bool { return p.acked >= need }); err != nil {
				p.wmu.Unlock()
				p.close(err)
				return nil, err
			}
		}
	}
	last := p.sent + uint64(n) //nolint:gosec // G115: n is a Write count, never negative
	var b *inflight
	if p.ack && n > 0 {
		b = &inflight{first: p.sent + 1, last: last}
		p.mu.Lock()
		p.inflight = append(p.inflight, b)
		p.mu.Unlock()
		defer p.settle(b)
	}
	p.issued.Store(last)
	if err := p.write(lines); err != nil {
		p.wmu.Unlock()
		return nil, err
	}
	p.sent = last
	p.wmu.Unlock()
	if !p.ack {
		return nil, nil
	}
	err := p.waitFor(ctx, p.cfg.Ack.Timeout, func() bool { return p.acked >= last })
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			p.close(err)
		}
		return nil, err
	}
	if b == nil {
		return nil, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return b.rejects, nil
}

// settle stops collecting rejects for b.
func (p *peer) settle(b *inflight) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.inflight {
		if x == b {
			p.inflight = append(p.inflight[:i], p.inflight[i+1:]...)
			return
		}
	}
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
				p.close(fmt.Errorf("%w: peer sent an over-long line", errProtocol))
				return
			}
			p.close(fmt.Errorf("connection lost: %w", err))
			return
		}
		if !p.ack {
			continue
		}
		r, err := cfjs1.ParseReply(line)
		if err == nil {
			err = p.take(r)
		}
		if err != nil {
			p.close(fmt.Errorf("%w: %w", errProtocol, err))
			return
		}
	}
}

// take records one reply. The receiver is not trusted: a reply naming a
// line not yet written, a reject after the ack that settled its line or a
// reject repeated would make the counts lie, so it ends the connection
// (what was not acknowledged is then sent again).
func (p *peer) take(r cfjs1.Reply) error {
	issued := p.issued.Load()
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.N > issued {
		return fmt.Errorf("peer replied for line %d, only %d written", r.N, issued)
	}
	if r.Kind == cfjs1.ReplyReject {
		if r.N <= p.acked || r.N <= p.lastReject {
			return fmt.Errorf("peer rejected line %d after settling it (ack %d, last reject %d)", r.N, p.acked, p.lastReject)
		}
		p.lastReject = r.N
		for _, b := range p.inflight {
			if b.first <= r.N && r.N <= b.last {
				b.add(r.Reason)
				break
			}
		}
		return nil
	}
	if r.N > p.acked {
		p.acked = r.N
	}
	p.acks++
	close(p.notify)
	p.notify = make(chan struct{})
	return nil
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

// inflight is one batch of lines, first to last, waiting for its ack; it
// collects the rejects that name its lines.
type inflight struct {
	first, last uint64
	rejects     []rejectCount
}

const (
	maxBatchReasons = 8
	reasonOther     = "other"
)

// rejectCount is how many lines of a batch were rejected for reason.
type rejectCount struct {
	reason string
	n      int64
}

// add counts one rejected line. A batch sees few distinct reasons, so a
// slice is searched rather than a map built.
// Past maxBatchReasons distinct reasons, the rest count as reasonOther:
// a receiver inventing a reason per line costs neither time nor metric
// series.
func (b *inflight) add(reason string) {
	if len(b.rejects) >= maxBatchReasons {
		reason = reasonOther
	}
	for i := range b.rejects {
		if b.rejects[i].reason == reason {
			b.rejects[i].n++
			return
		}
	}
	b.rejects = append(b.rejects, rejectCount{reason: reason, n: 1})
}
