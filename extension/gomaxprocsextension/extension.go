package gomaxprocsextension

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/extension/gomaxprocsextension/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/lagsignal"
)

// running is set while an instance of the extension runs: GOMAXPROCS is
// one setting per process, and two instances would fight over it.
var running atomic.Bool

var errSecondInstance = errors.New("gomaxprocs: another gomaxprocs extension already runs in this collector; GOMAXPROCS is one setting per process: list one gomaxprocs extension in service::extensions")

type gomaxprocs struct {
	cfg *Config
	set extension.Settings
	tel *metadata.TelemetryBuilder

	started int // GOMAXPROCS when Start ran, put back at Shutdown
	owner   bool
	// stopLags ends the lag signals (lagsignal.Listen).
	stopLags func()
	stop     chan struct{}
	done     chan struct{}
}

func newExtension(set extension.Settings, cfg *Config) (*gomaxprocs, error) {
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &gomaxprocs{cfg: cfg, set: set, tel: tel}, nil
}

// Start takes over GOMAXPROCS: min at once (a process that has just
// started has read nothing yet; one with work to catch up is busy, and
// doubles within an interval), scaled from then on every interval.
func (e *gomaxprocs) Start(context.Context, component.Host) error {
	if !running.CompareAndSwap(false, true) {
		return errSecondInstance
	}
	e.owner = true
	e.started = runtime.GOMAXPROCS(0)
	most := e.cfg.Max
	if most == 0 {
		most = e.started
	}
	most = max(most, e.cfg.Min)
	s := newScaler(e.cfg, e.cfg.Min, most)
	runtime.GOMAXPROCS(e.cfg.Min)
	e.tel.Procs(e.cfg.Min)
	e.set.Logger.Info("gomaxprocs: scaling GOMAXPROCS with the load",
		zap.Int("started_with", e.started), zap.Int("min", e.cfg.Min), zap.Int("max", most))
	e.stop, e.done = make(chan struct{}), make(chan struct{})
	lags, stopLags := lagsignal.Listen()
	e.stopLags = stopLags
	go e.run(s, lags)
	return nil
}

// run looks at the process's CPU time every interval, and doubles the
// procs at once when a line reader says it lags (lagsignal): under a
// sudden flood, an interval on one proc can leave a reader unscheduled
// long enough to block its writers. The ticker is its only timer: one
// wakeup per interval on an idle process.
func (e *gomaxprocs) run(s *scaler, lags <-chan struct{}) {
	defer close(e.done)
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	lastCPU, lastAt := processCPU(), time.Now()
	for {
		select {
		case <-e.stop:
			return
		case <-lags:
			was := s.procs
			e.change(was, s.lagging(), zap.String("why", "a reader lags"))
		case <-t.C:
			now, cpu, was := time.Now(), processCPU(), s.procs
			used := (cpu - lastCPU).Seconds() / now.Sub(lastAt).Seconds()
			e.change(was, s.observe(cpu-lastCPU, now.Sub(lastAt)), zap.Float64("procs_used", used))
			lastCPU, lastAt = cpu, now
		}
	}
}

// change applies a decision of the scaler.
func (e *gomaxprocs) change(was, procs int, why zap.Field) {
	if procs == was {
		return
	}
	runtime.GOMAXPROCS(procs)
	e.tel.Changed(was, procs)
	e.set.Logger.Debug("gomaxprocs: changed", zap.Int("from", was), zap.Int("to", procs), why)
}

// Shutdown stops scaling and puts GOMAXPROCS back to what it was at Start,
// so that a reload to a config without the extension runs as before it.
func (e *gomaxprocs) Shutdown(context.Context) error {
	if !e.owner {
		return nil
	}
	e.stopLags()
	close(e.stop)
	<-e.done
	runtime.GOMAXPROCS(e.started)
	e.owner = false
	running.Store(false)
	return nil
}

// processCPU is the user and system CPU time every thread of the process
// has used.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
