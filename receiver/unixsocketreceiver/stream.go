package unixsocketreceiver

import (
	"errors"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

// Reasons a stream connection is refused or closed by the receiver.
const (
	reasonMaxConnections       = "max_connections"
	reasonMaxConnectionsPerUID = "max_connections_per_uid"
	reasonIdleTimeout          = "idle_timeout"
)

// beforeAccept runs before each accept; tests hold the accept loop there.
var beforeAccept = func() {}

func (r *unixSocketReceiver) accept() {
	defer r.wg.Done()
	var backoff time.Duration
	for {
		beforeAccept()
		c, err := r.listener.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// E.g. out of file descriptors: pause rather than spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			r.set.Logger.Warn("unixsocket: accept failed: " + err.Error())
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		// Who the writer is, learnt now, before anything is read: a
		// writer that writes and exits at once is still known.
		p, err := r.identifyConn(c)
		if err != nil {
			r.set.Logger.Debug("unixsocket: SO_PEERCRED failed: " + err.Error())
		}
		if reason := r.admit(c, p); reason != "" {
			_ = c.Close()
			r.tel.Rejected(reason)
			continue
		}
		go r.serve(c, p)
	}
}

func (r *unixSocketReceiver) identifyConn(c *net.UnixConn) (peer, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return peer{}, err
	}
	var p peer
	var idErr error
	if err := raw.Control(func(fd uintptr) {
		p, idErr = identifyStream(int(fd), r.cfg.Peer.SystemdUnit)
	}); err != nil {
		return peer{}, err
	}
	return p, idErr
}

// admit takes a connection into the receiver's set, or says why not: over
// max_connections, or over max_connections_per_uid for its writer's user
// (SO_PEERCRED; in the rare case it failed, uid 0's count). Only the
// connections a user holds count for max_connections_per_uid: one its
// writer has already closed (connect, write, close: logger(1), per-message
// clients) is only waiting for what it sent to be read, so a user sending
// many messages quickly, faster than the receiver reads them, loses none.
func (r *unixSocketReceiver) admit(c *net.UnixConn, p peer) string {
	fd := connFD(c)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closing {
		if len(r.conns) >= r.cfg.MaxConnections {
			return reasonMaxConnections
		}
		if limit := r.cfg.MaxConnectionsPerUID; limit > 0 && r.connsPerUID[p.uid] >= limit &&
			r.heldBy(p.uid) >= limit && !writersClosed([]int{fd})[0] {
			return reasonMaxConnectionsPerUID
		}
	} else {
		// Accepted as Shutdown began: taken off the socket's backlog,
		// this connection is no one else's to read, so it is read
		// within the same bound as the others.
		_ = c.SetReadDeadline(r.drainDeadline())
	}
	r.conns[c] = openConn{uid: p.uid, fd: fd}
	r.connsPerUID[p.uid]++
	r.wg.Add(1)
	return ""
}

// openConn is a connection in the receiver's set: its writer's uid, and
// its descriptor, valid while it is in the set (serve closes it after
// taking it out).
type openConn struct {
	uid uint32
	fd  int
}

// connFD returns a connection's descriptor, -1 if it has none.
func connFD(c *net.UnixConn) int {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = raw.Control(func(s uintptr) { fd = int(s) })
	return fd
}

// heldBy counts the connections of uid whose writer is still connected;
// r.mu is held.
func (r *unixSocketReceiver) heldBy(uid uint32) int {
	var fds []int
	for _, oc := range r.conns {
		if oc.uid == uid {
			fds = append(fds, oc.fd)
		}
	}
	held := 0
	for _, closed := range writersClosed(fds) {
		if !closed {
			held++
		}
	}
	return held
}

// writersClosed reports, for each connection, whether its writer has
// closed its end (or shut down writing): what it sent is all in the
// socket. One poll for all of them, without waiting.
func writersClosed(fds []int) []bool {
	pfds := make([]unix.PollFd, len(fds))
	for i, fd := range fds {
		pfds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLRDHUP} //nolint:gosec // G115: a file descriptor, a C int
	}
	closed := make([]bool, len(fds))
	if n, err := unix.Poll(pfds, 0); err != nil || n == 0 {
		return closed
	}
	for i := range pfds {
		closed[i] = pfds[i].Revents&(unix.POLLRDHUP|unix.POLLHUP) != 0
	}
	return closed
}

// release takes a connection out of the receiver's set.
func (r *unixSocketReceiver) release(c *net.UnixConn) {
	r.mu.Lock()
	uid := r.conns[c].uid
	delete(r.conns, c)
	if r.connsPerUID[uid]--; r.connsPerUID[uid] <= 0 {
		delete(r.connsPerUID, uid)
	}
	r.mu.Unlock()
}

// serve reads one stream connection until it ends.
func (r *unixSocketReceiver) serve(c *net.UnixConn, p peer) {
	defer r.wg.Done()
	defer func() {
		r.release(c)
		_ = c.Close()
	}()
	pi := r.newPeerInfo(p)
	lines := ingest.NewLines(ingest.LinesSettings{
		Stage:           r.stage,
		Parser:          syslog.Parser{Format: r.cfg.Format},
		Scope:           metadata.ScopeName,
		Decorate:        pi.decorate,
		ExtraAttributes: peerAttributes,
		OnParseError:    r.tel.Malformed,
		ServiceKey:      pi.serviceKey(),
	})
	var src io.Reader = c
	idle := &idleReader{c: c, r: r}
	if r.cfg.IdleTimeout > 0 {
		src = idle
	}
	// A writer of a line per write(2) is read a few milliseconds' worth
	// at a time, not a line per wakeup (ingest/pace.go).
	src = ingest.NewPacedReader(src, ingest.NewPacer(ingest.DefaultPace, r.stop))
	err := ingest.ReadFrames(framing.NewDecoder(src, r.cfg.Framing, r.cfg.MaxMessageSize), lines, r.tel.ReaderTelemetry)
	switch {
	case idle.timedOut(err):
		r.tel.Closed(reasonIdleTimeout)
	case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
		r.set.Logger.Debug("unixsocket: connection ended: " + err.Error())
	}
}

// idleReader reads a connection with a deadline of idle_timeout from each
// read, so that a writer that connects and sends nothing does not hold its
// slot for ever; at shutdown the drain deadline, when sooner, wins.
type idleReader struct {
	c        *net.UnixConn
	r        *unixSocketReceiver
	deadline time.Time
}

func (ir *idleReader) Read(p []byte) (int, error) {
	ir.deadline = time.Now().Add(ir.r.cfg.IdleTimeout)
	// SetReadDeadline fails only on a closed connection, where Read below
	// fails too and says so.
	_ = ir.c.SetReadDeadline(ir.sooner(ir.deadline))
	// Shutdown stores its deadline before setting it on the connections:
	// if it was not seen above, Shutdown sets it after this and wins; if it
	// is seen now, it is set again here.
	if d := ir.r.drainDeadline(); !d.IsZero() {
		_ = ir.c.SetReadDeadline(ir.sooner(ir.deadline))
	}
	return ir.c.Read(p)
}

func (ir *idleReader) sooner(d time.Time) time.Time {
	if s := ir.r.drainDeadline(); !s.IsZero() && s.Before(d) {
		return s
	}
	return d
}

// timedOut reports whether err ended the connection at its idle deadline
// (not at the shutdown one).
func (ir *idleReader) timedOut(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) && !ir.deadline.IsZero() && ir.r.drainDeadline().IsZero()
}
