package cfjs1receiver

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver/internal/metadata"
)

// cfjs1Receiver accepts connections and runs one reader per connection.
type cfjs1Receiver struct {
	cfg     *Config
	set     receiver.Settings
	next    consumer.Logs
	obs     *receiverhelper.ObsReport
	tel     *metadata.TelemetryBuilder
	decoder cfjs1.Decoder
	budget  *byteBudget
	peers   *peerCounts
	// buffered is the bytes of unfinished lines all connections hold
	// (what otelcol_logx_cfjs1_receiver_buffered_bytes reports).
	buffered atomic.Int64
	guards   *guard.Registration
	// reads counts reads from connection sockets (what a sender's write
	// pattern costs in system calls; tests look at it).
	reads atomic.Int64

	host   component.Host
	ln     deadlineListener
	tls    *tls.Config   // nil: plain TCP
	slots  chan struct{} // one token per allowed connection
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}

	// acceptQuiet is how long accepts go without failing before a failure
	// is over (acceptQuietDefault; tests shorten it).
	acceptQuiet time.Duration
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*cfjs1Receiver, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: set.ID, Transport: "tcp", LongLivedCtx: true, ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	r := &cfjs1Receiver{cfg: cfg, set: set, next: next, obs: obs, tel: tel,
		decoder: cfjs1.Decoder{Limits: cfg.Decode},
		peers:   newPeerCounts(cfg.MaxConnectionsPerPeer),
		slots:   make(chan struct{}, cfg.MaxConnections), conns: map[net.Conn]struct{}{},
		acceptQuiet: acceptQuietDefault}
	if len(cfg.Wrappers) > 0 {
		r.decoder.Wrappers = cfjs1.Wrappers(cfg.Wrappers)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.budget = newByteBudget(cfg.MaxBufferedBytes)
	// The buffer gauges are observed at collection, not updated on every
	// read: a sender writing a byte at a time must not cost a metric
	// update per byte.
	err = errors.Join(
		tel.RegisterLogxCfjs1ReceiverBufferedBytesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(r.buffered.Load())
			return nil
		}),
		tel.RegisterLogxCfjs1ReceiverBufferReservedBytesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(r.budget.heldBytes())
			return nil
		}))
	if err != nil {
		tel.Shutdown()
		return nil, err
	}
	if r.guards, err = r.registerGuards(); err != nil {
		r.tel.Shutdown()
		return nil, err
	}
	return r, nil
}

// Start listens and accepts in the background.
func (r *cfjs1Receiver) Start(ctx context.Context, host component.Host) error {
	ln, err := net.Listen("tcp", r.cfg.Endpoint)
	if err != nil {
		return err
	}
	return r.serveListener(ctx, host, ln.(*net.TCPListener))
}

// serveListener accepts on ln in the background (each connection made TLS
// when configured).
func (r *cfjs1Receiver) serveListener(ctx context.Context, host component.Host, ln deadlineListener) error {
	if r.cfg.TLS.HasValue() {
		tcfg, err := r.cfg.TLS.Get().LoadTLSConfig(ctx)
		if err != nil {
			_ = ln.Close()
			return err
		}
		r.tls = tcfg
	}
	r.host, r.ln = host, ln
	r.wg.Add(1)
	go r.accept()
	return nil
}

// Addr is the listening address (for tests that listen on port 0).
func (r *cfjs1Receiver) Addr() net.Addr { return r.ln.Addr() }

// Shutdown closes the listener and every connection, and waits for the
// readers to finish (a batch being handed over completes first).
func (r *cfjs1Receiver) Shutdown(context.Context) error {
	defer func() {
		r.tel.Shutdown()
		_ = r.guards.Unregister()
	}()
	if r.ln == nil {
		r.cancel()
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
