package unixsocketreceiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
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
	conns    map[net.Conn]struct{}
	closing  bool
	wg       sync.WaitGroup
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
	r := &unixSocketReceiver{cfg: cfg, set: set, tel: tel, conns: map[net.Conn]struct{}{}}
	r.stage = ingest.NewStage(cfg.Buffer, ingest.StageSettings{
		Next:      next,
		ObsReport: obs,
		Format:    cfg.Format.String(),
		OnDrop:    tel.Dropped,
	})
	return r, nil
}

// Start creates the socket (replacing a stale one) and starts reading.
func (r *unixSocketReceiver) Start(_ context.Context, _ component.Host) error {
	mode, err := ingest.FileMode(r.cfg.Mode)
	if err != nil {
		return err
	}
	if err := removeStaleSocket(r.cfg.Path); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(r.cfg.Path), 0o755); err != nil {
		return fmt.Errorf("unixsocket: %w", err)
	}
	addr := &net.UnixAddr{Name: r.cfg.Path}
	if r.cfg.Transport == Datagram {
		addr.Net = "unixgram"
		pc, err := net.ListenUnixgram("unixgram", addr)
		if err != nil {
			return fmt.Errorf("unixsocket: %w", err)
		}
		_ = pc.SetReadBuffer(4 << 20) // absorb bursts; best effort
		r.packet = pc
	} else {
		addr.Net = "unix"
		l, err := net.ListenUnix("unix", addr)
		if err != nil {
			return fmt.Errorf("unixsocket: %w", err)
		}
		l.SetUnlinkOnClose(true)
		r.listener = l
	}
	if err := ingest.ApplyOwnership(r.cfg.Path, mode, r.cfg.Owner, r.cfg.Group); err != nil {
		r.closeSocket()
		r.listener, r.packet = nil, nil
		return fmt.Errorf("unixsocket: %s: %w", r.cfg.Path, err)
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

// removeStaleSocket removes a socket file left by a previous run, and
// refuses to touch anything that is not a socket.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unixsocket: %w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("unixsocket: %s exists and is not a socket; remove it or choose another path", path)
	}
	return os.Remove(path)
}

func (r *unixSocketReceiver) closeSocket() {
	if r.listener != nil {
		_ = r.listener.Close()
	}
	if r.packet != nil {
		_ = r.packet.Close()
		_ = os.Remove(r.cfg.Path)
	}
}

// Shutdown stops reading, removes the socket, and hands what is held to
// the consumer until ctx ends (the rest is counted as dropped).
func (r *unixSocketReceiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return nil
	}
	r.closing = true
	started := r.listener != nil || r.packet != nil
	for c := range r.conns {
		_ = c.Close()
	}
	r.mu.Unlock()
	if !started {
		return nil
	}
	r.closeSocket()
	r.wg.Wait()
	return r.stage.Shutdown(ctx)
}
