package fiforeceiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
	"github.com/otelcol-logx/otelcol-logx/receiver/fiforeceiver/internal/metadata"
)

// fSetPipeSz is F_SETPIPE_SZ (linux/fcntl.h), not in package syscall.
const fSetPipeSz = 1031

type fifoReceiver struct {
	cfg   *Config
	set   receiver.Settings
	tel   *ingest.ReaderTelemetry
	stage *ingest.Stage

	mu      sync.Mutex
	file    *os.File
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
		Next:      next,
		ObsReport: obs,
		Format:    cfg.Format.String(),
		OnDrop:    tel.Dropped,
	})
	return r, nil
}

// Start creates the FIFO if missing, opens it and starts reading.
func (r *fifoReceiver) Start(_ context.Context, _ component.Host) error {
	mode, err := ingest.FileMode(r.cfg.Mode)
	if err != nil {
		return err
	}
	if err := ensureFIFO(r.cfg.Path, uint32(mode)); err != nil {
		return err
	}
	if err := ingest.ApplyOwnership(r.cfg.Path, mode, r.cfg.Owner, r.cfg.Group); err != nil {
		return fmt.Errorf("fifo: %s: %w", r.cfg.Path, err)
	}
	// Read-write: the receiver is itself a writer, so the pipe never sees
	// its last writer go (no EOF, no spinning on it when writers come and
	// go), and opening does not wait for a first writer. os.OpenFile puts
	// the pipe in non-blocking mode under the runtime poller, so Close
	// ends a pending Read.
	f, err := os.OpenFile(r.cfg.Path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("fifo: %w", err)
	}
	if r.cfg.PipeSize > 0 {
		// Best effort: a smaller pipe still works, it absorbs less.
		if err := setPipeSize(f, r.cfg.PipeSize); err != nil {
			r.set.Logger.Warn(fmt.Sprintf("fifo: pipe_size %d not applied, keeping the kernel's pipe size: %v (unprivileged processes are bounded by /proc/sys/fs/pipe-max-size and pipe-user-pages-soft)", r.cfg.PipeSize, err))
		}
	}
	r.mu.Lock()
	r.file = f
	r.mu.Unlock()
	r.stage.Start()
	go r.read(f)
	return nil
}

// ensureFIFO creates the FIFO if missing, and refuses anything else there.
func ensureFIFO(path string, mode uint32) error {
	fi, err := os.Lstat(path)
	if err == nil {
		if fi.Mode()&os.ModeNamedPipe == 0 {
			return fmt.Errorf("fifo: %s exists and is not a FIFO; remove it or choose another path", path)
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("fifo: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("fifo: %w", err)
	}
	if err := syscall.Mkfifo(path, mode); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("fifo: mkfifo %s: %w", path, err)
	}
	return nil
}

func setPipeSize(f *os.File, size int) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, uintptr(size))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

func (r *fifoReceiver) read(f *os.File) {
	defer close(r.done)
	identity := ingest.NewServiceIdentity(r.cfg.Service, "")
	lines := ingest.NewLines(ingest.LinesSettings{
		Stage:           r.stage,
		Parser:          syslog.Parser{Format: r.cfg.Format},
		Scope:           metadata.ScopeName,
		Decorate:        identity.Set,
		ExtraAttributes: 1,
		OnParseError:    r.tel.Malformed,
	})
	err := ingest.ReadFrames(framing.NewDecoder(f, r.cfg.Framing, r.cfg.MaxMessageSize), lines, r.tel)
	if !errors.Is(err, os.ErrClosed) && !errors.Is(err, io.EOF) {
		r.set.Logger.Error("fifo: read failed, no longer reading: " + err.Error())
	}
}

// Shutdown stops reading (the FIFO stays, for writers that hold it open)
// and hands what is held to the consumer until ctx ends.
func (r *fifoReceiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return nil
	}
	r.closing = true
	f := r.file
	r.mu.Unlock()
	if f == nil {
		return nil
	}
	_ = f.Close()
	<-r.done
	return r.stage.Shutdown(ctx)
}
