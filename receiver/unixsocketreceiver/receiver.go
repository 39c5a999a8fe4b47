package unixsocketreceiver

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/otelcol-logx/otelcol-logx/internal/fileperm"
	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/sdactivation"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

type unixSocketReceiver struct {
	cfg   *Config
	set   receiver.Settings
	tel   *metadata.Telemetry
	stage *ingest.Stage

	mu       sync.Mutex
	listener *net.UnixListener
	packet   *net.UnixConn
	conns    map[*net.UnixConn]openConn
	// connsPerUID counts the open connections of each writer's user.
	connsPerUID map[uint32]int
	closing     bool
	// drainUntil is the deadline, in Unix nanoseconds, until which
	// Shutdown reads the open connections; 0 before Shutdown.
	drainUntil atomic.Int64
	guards     *guard.Registration
	wg         sync.WaitGroup
	// handle is the registry's hold on the socket, released at shutdown.
	handle *sdactivation.Handle
	// removeOnClose removes the socket file at shutdown when the registry
	// could not keep it.
	removeOnClose func()
	// stopping tells the datagram reader to drain and return.
	stopping atomic.Bool
	// stop is closed when Shutdown begins: the readers' pauses
	// (ingest.Pacer) end, and they drain what is queued without one.
	stop chan struct{}
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*unixSocketReceiver, error) {
	tel, err := metadata.NewTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	transport := "unix"
	if cfg.Transport == Datagram {
		transport = "unixgram"
	}
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              transport,
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	r := &unixSocketReceiver{cfg: cfg, set: set, tel: tel, conns: map[*net.UnixConn]openConn{}, connsPerUID: map[uint32]int{}, stop: make(chan struct{})}
	r.stage = ingest.NewStage(cfg.Buffer, ingest.StageSettings{
		// Reads of a line or a few: let them gather (ingest/linger.go).
		Linger:        ingest.DefaultLinger,
		Next:          next,
		ObsReport:     obs,
		Format:        cfg.Format.String(),
		OnServiceDrop: tel.DroppedByService,
		Logger:        set.Logger,
	})
	return r, nil
}

// Start listens on the socket the service manager passed or a reload
// left open, else creates it (replacing a stale one), and starts reading.
func (r *unixSocketReceiver) Start(_ context.Context, _ component.Host) error {
	mode, err := fileperm.Mode(r.cfg.Mode)
	if err != nil {
		return err
	}
	inherited, err := r.openInherited()
	if err != nil {
		return err
	}
	if !inherited {
		if err := r.createSocket(mode); err != nil {
			return err
		}
	}
	if r.guards, err = r.registerGuards(); err != nil {
		r.closeSocket()
		return err
	}
	r.stage.Start()
	r.wg.Add(1)
	if r.packet != nil {
		go r.readDatagrams(r.askCredentials())
	} else {
		go r.accept()
	}
	return nil
}

// closeSocket closes this receiver's copy of the socket; the file stays
// (the registry removes it once no reload took the socket back, and never
// one the service manager made).
func (r *unixSocketReceiver) closeSocket() {
	if r.listener != nil {
		_ = r.listener.Close()
	}
	if r.packet != nil {
		_ = r.packet.Close()
	}
}

// connDrainTimeout bounds how long Shutdown keeps reading connections
// already accepted, until their writers close them: a writer that
// connects, writes and closes (logger(1), per-message clients) loses
// nothing and never sees EPIPE across a restart; one that stays connected
// is closed after this and reconnects.
const connDrainTimeout = time.Second

// drainDeadline is the deadline of reading at shutdown, zero before it.
func (r *unixSocketReceiver) drainDeadline() time.Time {
	if ns := r.drainUntil.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// registerGuards reports the buffer's guards (buffer.max_bytes,
// buffer.fair_share.max_services) and, for a stream socket, the connection
// guards: max_connections (how full: open connections),
// max_connections_per_uid (how full: the user with the most), idle_timeout
// (on or off).
func (r *unixSocketReceiver) registerGuards() (*guard.Registration, error) {
	count := func(f func() int) func() int64 {
		return func() int64 {
			r.mu.Lock()
			defer r.mu.Unlock()
			return int64(f())
		}
	}
	guards := r.stage.Guards()
	if r.listener != nil { // connections: a stream socket only
		guards = append(guards,
			guard.Guard{Name: "max_connections", Limit: int64(r.cfg.MaxConnections),
				Use: count(func() int { return len(r.conns) })},
			guard.Guard{Name: "max_connections_per_uid", Disabled: r.cfg.MaxConnectionsPerUID == 0,
				Limit: int64(r.cfg.MaxConnectionsPerUID), Use: count(r.busiestUID)},
			guard.Guard{Name: "idle_timeout", Disabled: r.cfg.IdleTimeout == 0})
	}
	return guard.Register(r.set.TelemetrySettings, r.set.ID, guards...)
}

// busiestUID is the most connections one user holds; r.mu is held.
func (r *unixSocketReceiver) busiestUID() int {
	most := 0
	for _, n := range r.connsPerUID {
		most = max(most, n)
	}
	return most
}

// Shutdown stops accepting (connections not yet accepted wait in the
// socket's backlog while the registry or the service manager keeps the
// socket), reads the accepted connections until their writers close them
// or connDrainTimeout passes, reads the datagrams already queued, hands
// the socket back to the registry, and hands what is held to the consumer
// (what it does not take in time is counted as dropped).
func (r *unixSocketReceiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return nil
	}
	r.closing = true
	close(r.stop)
	started := r.listener != nil || r.packet != nil
	deadline := time.Now().Add(connDrainTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	// Stored before the connections' deadlines are set (see idleReader).
	r.drainUntil.Store(deadline.UnixNano())
	conns := make([]*net.UnixConn, 0, len(r.conns))
	for c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	_ = r.guards.Unregister()
	if !started {
		return r.stage.Shutdown(ctx)
	}
	if r.listener != nil {
		_ = r.listener.Close()
	}
	for _, c := range conns {
		_ = c.SetReadDeadline(deadline)
	}
	if r.packet != nil {
		r.stopDatagrams()
	}
	r.wg.Wait()
	r.closeSocket()
	if r.handle != nil {
		r.handle.Release()
	} else if r.removeOnClose != nil {
		r.removeOnClose()
	}
	return r.stage.Shutdown(ctx)
}
