package fiforeceiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/otelcol-logx/otelcol-logx/internal/fileperm"
	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
	"github.com/otelcol-logx/otelcol-logx/receiver/fiforeceiver/internal/metadata"
)

type fifoReceiver struct {
	cfg   *Config
	set   receiver.Settings
	tel   *ingest.ReaderTelemetry
	stage *ingest.Stage
	// guards reports the buffer's caps (internal/guard) while it runs.
	guards *guard.Registration

	mu      sync.Mutex
	opened  *openedFIFO
	pipe    *pipeReader
	closing bool
	done    chan struct{}
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*fifoReceiver, error) {
	tel, err := metadata.NewTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "fifo",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	r := &fifoReceiver{cfg: cfg, set: set, tel: tel, done: make(chan struct{})}
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

// Start opens the FIFO (inherited, kept from before a reload, adopted, or
// created) and starts reading.
func (r *fifoReceiver) Start(_ context.Context, _ component.Host) error {
	mode, err := fileperm.Mode(r.cfg.Mode)
	if err != nil {
		return err
	}
	o, err := r.openFIFO(mode)
	if err != nil {
		return err
	}
	if r.cfg.PipeSize > 0 {
		// Best effort: a smaller pipe still works, it absorbs less.
		if got, err := setPipeSize(o.file, r.cfg.PipeSize); err != nil {
			r.set.Logger.Warn(fmt.Sprintf("fifo: pipe_size %d not applied, keeping the kernel's pipe size: %v (unprivileged processes are bounded by /proc/sys/fs/pipe-max-size and pipe-user-pages-soft)", r.cfg.PipeSize, err))
		} else if got < r.cfg.PipeSize {
			r.set.Logger.Warn(fmt.Sprintf("fifo: pipe_size %d lowered to %d, the bound /proc/sys/fs/pipe-max-size sets for unprivileged processes", r.cfg.PipeSize, got))
		}
	}
	if r.guards, err = guard.Register(r.set.TelemetrySettings, r.set.ID, r.stage.Guards()...); err != nil {
		_ = o.file.Close()
		return err
	}
	size, err := pipeSize(o.file)
	if err != nil {
		r.set.Logger.Debug("fifo: F_GETPIPE_SZ failed, pacing reads for a 64 KiB pipe: " + err.Error())
	}
	pr := newPipeReader(o.file, o.readOnly)
	r.mu.Lock()
	r.opened, r.pipe = o, pr
	r.mu.Unlock()
	r.stage.Start()
	go r.read(pr, pipePace(size))
	return nil
}

func (r *fifoReceiver) read(pr *pipeReader, pace ingest.PaceSettings) {
	defer close(r.done)
	identity := ingest.NewServiceIdentity(r.cfg.Service, "")
	lines := ingest.NewLines(ingest.LinesSettings{
		Stage:           r.stage,
		Parser:          syslog.Parser{Format: r.cfg.Format},
		Scope:           metadata.ScopeName,
		Decorate:        identity.Set,
		ServiceKey:      identity.Key(),
		ExtraAttributes: 1,
		OnParseError:    r.tel.Malformed,
	})
	// A writer of a line per write(2) is read a few milliseconds' worth
	// at a time, not a line per wakeup (ingest/pace.go), within a
	// quarter of what the pipe holds.
	src := ingest.NewPacedReader(pr, ingest.NewPacer(pace, pr.stop))
	err := ingest.ReadFrames(framing.NewDecoder(src, r.cfg.Framing, r.cfg.MaxMessageSize), lines, r.tel)
	if !errors.Is(err, os.ErrClosed) && !errors.Is(err, io.EOF) {
		r.set.Logger.Error("fifo: read failed, no longer reading: " + err.Error())
	}
}

// Shutdown reads what the pipe holds at this moment (so that what writers
// wrote before the stop is delivered or counted, and no line is cut in two
// with the next reader), stops reading, hands the read end back to the
// registry (the pipe keeps a reader across a reload or, when the service
// manager holds it, a restart; the FIFO file always stays) and hands what
// is held to the consumer until ctx ends.
func (r *fifoReceiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return nil
	}
	r.closing = true
	o, pr := r.opened, r.pipe
	r.mu.Unlock()
	defer func() { _ = r.guards.Unregister() }()
	if o == nil {
		return r.stage.Shutdown(ctx)
	}
	pr.Stop()
	<-r.done
	_ = o.file.Close()
	if o.handle != nil {
		o.handle.Release()
	}
	return r.stage.Shutdown(ctx)
}
