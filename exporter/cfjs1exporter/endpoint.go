package cfjs1exporter

import (
	"context"
	"crypto/tls"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

var errDown = errors.New("endpoint is down")

// endpoint is one configured receiver and its state machine:
//
//	up   --failure-->  down  --probe connects-->  proving  --healthy_for-->  up
//	                     ^-------- failure while proving (backoff doubles) --'
//
// Only an up endpoint is given records.
type endpoint struct {
	cfg    EndpointConfig
	exp    *cfjs1Exporter
	tlsCfg *tls.Config
	set    attribute.Set
	attrs  metric.MeasurementOption

	mu        sync.Mutex
	peer      *peer         // the connection in use; nil while not up
	downSince time.Time     // start of the current outage
	degraded  time.Duration // past outages
	probing   bool
}

// degradedTime is the time spent down so far, the current outage included.
func (e *endpoint) degradedTime() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.degraded
	if e.peer == nil && !e.downSince.IsZero() {
		d += time.Since(e.downSince)
	}
	return d
}

// current returns the connection in use, or nil when the endpoint is down.
func (e *endpoint) current() *peer {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.peer
}

// isUp reports whether records may be sent.
func (e *endpoint) isUp() bool { return e.current() != nil }

// send writes lines and, with acks, waits for them; a failure takes the
// endpoint down.
func (e *endpoint) send(ctx context.Context, lines []byte, n int) error {
	p := e.current()
	if p == nil {
		return errDown
	}
	e.exp.tel.LogxCfjs1ExporterSent.Add(context.Background(), int64(n), e.attrs)
	rejected, err := p.send(ctx, lines, n)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			e.markDown(p, reasonOf(err), err)
		}
		return err
	}
	if p.ack {
		taken := int64(n)
		for _, r := range rejected {
			e.exp.tel.LogxCfjs1ExporterRejected.Add(context.Background(), r.n, e.attrs, e.exp.reasons.attr(r.reason))
			taken -= r.n
		}
		e.exp.tel.LogxCfjs1ExporterAcked.Add(context.Background(), taken, e.attrs)
	}
	return nil
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, errProtocol):
		return "protocol_error"
	case errors.Is(err, errAckTimeout), errors.Is(err, context.DeadlineExceeded):
		return "ack_timeout"
	case errors.Is(err, errClosed):
		return "connection_lost"
	}
	return "write_failed"
}

// deathReason names why a connection died on its own: an unanswered
// heartbeat is an ack timeout, as it would be for a batch (whichever of
// the two notices first, the reason is the same).
func deathReason(err error) string {
	switch {
	case errors.Is(err, errProtocol):
		return "protocol_error"
	case errors.Is(err, errAckTimeout):
		return "ack_timeout"
	}
	return "connection_lost"
}

// watch takes the endpoint down when the connection dies on its own (the
// reader saw it close, or the heartbeat went unanswered).
func (e *endpoint) watch(p *peer) {
	select {
	case <-p.dead:
		err := p.failure()
		e.markDown(p, deathReason(err), err)
	case <-e.exp.stop:
	}
}

// markDown takes the endpoint out of use, if p is still its connection,
// and starts probing.
func (e *endpoint) markDown(p *peer, reason string, err error) {
	p.close(err)
	e.mu.Lock()
	if e.peer != p {
		e.mu.Unlock()
		return
	}
	e.peer = nil
	e.downSince = time.Now()
	e.mu.Unlock()
	e.exp.set.Logger.Warn("cfjs1 endpoint down", zap.String("endpoint", e.cfg.Name), zap.String("reason", reason), zap.Error(err))
	ctx := context.Background()
	e.exp.tel.LogxCfjs1ExporterUp.Record(ctx, 0, e.attrs)
	e.exp.tel.LogxCfjs1ExporterTransitions.Add(ctx, 1, e.attrs, metric.WithAttributes(attribute.String("reason", reason)))
	e.startProbe()
}

// setUp puts p in use.
func (e *endpoint) setUp(p *peer, recovered bool) {
	e.mu.Lock()
	e.peer = p
	since := e.downSince
	if !since.IsZero() {
		e.degraded += time.Since(since)
	}
	e.mu.Unlock()
	ctx := context.Background()
	e.exp.tel.LogxCfjs1ExporterUp.Record(ctx, 1, e.attrs)
	if recovered {
		e.exp.tel.LogxCfjs1ExporterTransitions.Add(ctx, 1, e.attrs, metric.WithAttributes(attribute.String("reason", "recovered")))
		e.exp.set.Logger.Info("cfjs1 endpoint up again", zap.String("endpoint", e.cfg.Name), zap.Duration("down_for", time.Since(since)))
	}
	e.exp.wg.Add(1)
	go func() {
		defer e.exp.wg.Done()
		e.watch(p)
	}()
}

func (e *endpoint) startProbe() {
	e.mu.Lock()
	if e.probing {
		e.mu.Unlock()
		return
	}
	e.probing = true
	e.mu.Unlock()
	e.exp.wg.Add(1)
	go func() {
		defer e.exp.wg.Done()
		e.probe()
		e.mu.Lock()
		e.probing = false
		e.mu.Unlock()
	}()
}

// probe reconnects with exponential backoff; a connection is used only
// after it stayed healthy (heartbeats answered) for failback.healthy_for.
func (e *endpoint) probe() {
	fb := e.exp.cfg.Failback
	backoff := fb.InitialBackoff
	wait := time.NewTimer(backoff)
	defer wait.Stop()
	for {
		select {
		case <-e.exp.stop:
			return
		case <-wait.C:
		}
		p, err := dialPeer(e.exp.ctx, e.exp.cfg, e.cfg, e.tlsCfg)
		if err == nil {
			proving := time.NewTimer(fb.HealthyFor)
			select {
			case <-proving.C:
				if p.failure() == nil {
					e.setUp(p, true)
					return
				}
			case <-p.dead:
				proving.Stop()
			case <-e.exp.stop:
				proving.Stop()
				p.close(errClosed)
				return
			}
		}
		backoff = min(2*backoff, fb.MaxBackoff)
		wait.Reset(backoff)
	}
}

// close ends the connection in use (at shutdown).
func (e *endpoint) close() {
	e.mu.Lock()
	p := e.peer
	e.peer = nil
	e.mu.Unlock()
	if p != nil {
		p.close(errClosed)
		<-p.done
	}
}
