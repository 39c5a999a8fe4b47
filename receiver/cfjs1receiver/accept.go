package cfjs1receiver

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
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

// acceptQuietDefault is how long accepts must go without failing before a
// failure is over, whether or not one worked meanwhile. While descriptors
// are short, a connection that ends frees one and the next accept works,
// then they fail again; ending the failure at that accept would restart
// the health check's recovery_duration each time, and a tier 2 turning
// most senders away would never be reported unhealthy. Nor may the end
// wait for an accept that works: a load balancer that took the tier 2 out
// of rotation sends none.
const acceptQuietDefault = 5 * time.Second

var (
	reasonMaxConnections = metric.WithAttributes(attribute.String("reason", "max_connections"))
	reasonMaxPerPeer     = metric.WithAttributes(attribute.String("reason", "max_connections_per_peer"))
)

// deadlineListener is a listener whose Accept can be given a deadline
// (*net.TCPListener): the accept loop sets it acceptQuiet after each
// failure, and an Accept that reaches it ends the failure, with no
// goroutine or timer of its own.
type deadlineListener interface {
	net.Listener
	SetDeadline(t time.Time) error
}

// accept runs until the listener is closed. A failed accept never ends it:
// running out of descriptors or kernel memory is a passing state, and a
// listener that stopped would turn every edge away while the process looks
// alive. From the first failed accept the component reports a recoverable
// error, once; it reports healthy when acceptQuiet has passed without a
// failed accept.
func (r *cfjs1Receiver) accept() {
	defer r.wg.Done()
	var (
		failing bool          // from the first failure until acceptQuiet without one
		delay   time.Duration // back-off after a failed accept; 0 once one worked
	)
	for {
		c, err := r.ln.Accept()
		switch {
		case err == nil:
			delay = 0
			r.admit(c)
		case errors.Is(err, os.ErrDeadlineExceeded): // acceptQuiet since the last failure
			_ = r.ln.SetDeadline(time.Time{})
			failing = false
			r.set.Logger.Info("cfjs1 accepting again", zap.Duration("without_failure_for", r.acceptQuiet))
			componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK))
		case errors.Is(err, net.ErrClosed):
			return
		default:
			_ = r.ln.SetDeadline(time.Now().Add(r.acceptQuiet))
			r.tel.LogxCfjs1ReceiverAcceptErrors.Add(r.ctx, 1, metric.WithAttributes(attribute.String("reason", acceptErrorReason(err))))
			if !failing {
				failing = true
				r.set.Logger.Warn("cfjs1 accept failed; retrying with back-off", zap.Error(err))
				componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(err))
			}
			delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
			if !r.sleep(delay) {
				return
			}
		}
	}
}

// sleep waits d, or less if the receiver is shutting down (false).
func (r *cfjs1Receiver) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
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
