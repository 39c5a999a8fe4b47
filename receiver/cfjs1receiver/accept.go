package cfjs1receiver

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// Back-off between failed accepts: short at first (a burst of aborted
// handshakes clears at once), at most a second (the listener is never
// blind for long once descriptors are free again).
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

var (
	reasonMaxConnections = metric.WithAttributes(attribute.String("reason", "max_connections"))
	reasonMaxPerPeer     = metric.WithAttributes(attribute.String("reason", "max_connections_per_peer"))
)

// accept runs until the listener is closed. A failed accept never ends it:
// running out of descriptors or kernel memory is a passing state, and a
// listener that stopped would turn every edge away while the process looks
// alive. While accepts fail the component reports a recoverable error; the
// first accept that succeeds again reports it healthy.
func (r *cfjs1Receiver) accept() {
	defer r.wg.Done()
	var delay time.Duration
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			r.tel.LogxCfjs1ReceiverAcceptErrors.Add(r.ctx, 1, metric.WithAttributes(attribute.String("reason", acceptErrorReason(err))))
			if delay == 0 {
				r.set.Logger.Warn("cfjs1 accept failed; retrying with back-off", zap.Error(err))
				componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(err))
			}
			delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		if delay != 0 {
			delay = 0
			r.set.Logger.Info("cfjs1 accepting again")
			componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK))
		}
		r.admit(c)
	}
}

// acceptErrorReason names an accept error for the metric.
func acceptErrorReason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EMFILE:
			return "emfile"
		case syscall.ENFILE:
			return "enfile"
		case syscall.ECONNABORTED:
			return "econnaborted"
		case syscall.ENOBUFS:
			return "enobufs"
		case syscall.ENOMEM:
			return "enomem"
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "other"
}

// admit serves raw if a slot and its peer's share are free, else closes it.
func (r *cfjs1Receiver) admit(raw net.Conn) {
	peer := peerOf(raw)
	if !r.peers.add(peer) {
		r.tel.LogxCfjs1ReceiverConnectionsRejected.Add(r.ctx, 1, reasonMaxPerPeer)
		_ = raw.Close()
		return
	}
	select {
	case r.slots <- struct{}{}:
	default:
		r.peers.remove(peer)
		r.tel.LogxCfjs1ReceiverConnectionsRejected.Add(r.ctx, 1, reasonMaxConnections)
		_ = raw.Close()
		return
	}
	paced := newPacedConn(r.ctx, raw, &r.reads, r.tls != nil)
	var c net.Conn = paced
	if r.tls != nil {
		c = tls.Server(c, r.tls)
	}
	release := func() {
		<-r.slots
		r.peers.remove(peer)
	}
	r.mu.Lock()
	if r.conns == nil { // shutting down
		r.mu.Unlock()
		release()
		_ = c.Close()
		return
	}
	r.conns[c] = struct{}{}
	r.mu.Unlock()
	r.tel.LogxCfjs1ReceiverConnections.Add(r.ctx, 1)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.serve(c, paced.pacer)
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		_ = c.Close()
		r.tel.LogxCfjs1ReceiverConnections.Add(r.ctx, -1)
		release()
	}()
}
