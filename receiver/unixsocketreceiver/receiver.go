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
	conns    map[*net.UnixConn]struct{}
	closing  bool
	wg       sync.WaitGroup
	// handle is the registry's hold on the socket, released at shutdown.
	handle *sdactivation.Handle
	// removeOnClose removes the socket file at shutdown when the registry
	// could not keep it.
	removeOnClose func()
	// stopping tells the datagram reader to drain and return.
	stopping atomic.Bool
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
	r := &unixSocketReceiver{cfg: cfg, set: set, tel: tel, conns: map[*net.UnixConn]struct{}{}}
	r.stage = ingest.NewStage(cfg.Buffer, ingest.StageSettings{
		Next:      next,
		ObsReport: obs,
		Format:    cfg.Format.String(),
		OnDrop:    tel.Dropped,
		Logger:    set.Logger,
	})
	return r, nil
}

// Start listens on the socket the service manager passed or a reload
// left open, else creates it (replacing a stale one), and starts reading.
func (r *unixSocketReceiver) Start(_ context.Context, _ component.Host) error {
	mode, err := ingest.FileMode(r.cfg.Mode)
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
	r.stage.Start()
	r.wg.Add(1)
	if r.packet != nil {
		go r.readDatagrams()
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
	started := r.listener != nil || r.packet != nil
	conns := make([]*net.UnixConn, 0, len(r.conns))
	for c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	if !started {
		return r.stage.Shutdown(ctx)
	}
	deadline := time.Now().Add(connDrainTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
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
