package cfjs1receiver

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver/internal/metadata"
)

// cfjs1Receiver accepts connections and runs one reader per connection.
type cfjs1Receiver struct {
	cfg      *Config
	set      receiver.Settings
	next     consumer.Logs
	obs      *receiverhelper.ObsReport
	tel      *metadata.Telemetry
	wrappers cfjs1.Wrappers

	ln     net.Listener
	slots  chan struct{} // one token per allowed connection
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*cfjs1Receiver, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: set.ID, Transport: "tcp", LongLivedCtx: true, ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tel, err := metadata.NewTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	var w cfjs1.Wrappers
	if len(cfg.Wrappers) > 0 {
		w = cfjs1.Wrappers(cfg.Wrappers)
	}
	return &cfjs1Receiver{cfg: cfg, set: set, next: next, obs: obs, tel: tel, wrappers: w,
		slots: make(chan struct{}, cfg.MaxConnections), conns: map[net.Conn]struct{}{}}, nil
}

// Start listens and accepts in the background.
func (r *cfjs1Receiver) Start(ctx context.Context, _ component.Host) error {
	ln, err := net.Listen("tcp", r.cfg.Endpoint)
	if err != nil {
		return err
	}
	if r.cfg.TLS.HasValue() {
		tcfg, err := r.cfg.TLS.Get().LoadTLSConfig(ctx)
		if err != nil {
			_ = ln.Close()
			return err
		}
		ln = tls.NewListener(ln, tcfg)
	}
	r.ln = ln
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.accept()
	return nil
}

// Addr is the listening address (for tests that listen on port 0).
func (r *cfjs1Receiver) Addr() net.Addr { return r.ln.Addr() }

func (r *cfjs1Receiver) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			r.set.Logger.Warn("accept failed", zap.Error(err))
			return
		}
		select {
		case r.slots <- struct{}{}:
		default:
			r.tel.ConnectionsRejected.Add(r.ctx, 1, metric.WithAttributes(attribute.String("reason", "max_connections")))
			_ = c.Close()
			continue
		}
		r.mu.Lock()
		if r.conns == nil { // shutting down
			r.mu.Unlock()
			_ = c.Close()
			return
		}
		r.conns[c] = struct{}{}
		r.mu.Unlock()
		r.tel.Connections.Add(r.ctx, 1)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.serve(c)
			r.mu.Lock()
			delete(r.conns, c)
			r.mu.Unlock()
			_ = c.Close()
			r.tel.Connections.Add(r.ctx, -1)
			<-r.slots
		}()
	}
}

// Shutdown closes the listener and every connection, and waits for the
// readers to finish (a batch being handed over completes first).
func (r *cfjs1Receiver) Shutdown(context.Context) error {
	if r.ln == nil {
		return nil
	}
	err := r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		_ = c.Close()
	}
	r.conns = nil
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
