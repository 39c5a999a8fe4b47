package tenantfilterprocessor

import (
	"context"
	"errors"
	"os"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"
	"github.com/otelcol-logx/otelcol-logx/processor/tenantfilterprocessor/internal/metadata"
)

// tenantFilter holds the job set in force and keeps it fresh.
type tenantFilter struct {
	cfg      *Config
	id       component.ID
	set      component.TelemetrySettings
	logger   *zap.Logger
	tel      *metadata.TelemetryBuilder
	dropOpts [verdicts]metric.AddOption
	// holder applies the guard on every reload and keeps the last good
	// table; its table is nil until a good document was loaded.
	holder       *tenantjobs.Holder
	lastReloadOK atomic.Bool

	stopReloads      context.CancelFunc
	reloadsDone      chan struct{}
	unregisterGauges func() error
	guards           *guard.Registration
}

func newTenantFilter(cfg *Config, set processor.Settings) (*tenantFilter, error) {
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	f := &tenantFilter{cfg: cfg, id: set.ID, set: set.TelemetrySettings, logger: set.Logger, tel: tel, dropOpts: dropOptions()}
	// The processor delivers nowhere: destination rules are the
	// exporter's to apply (see tenantjobs.Rules.SelectorsOnly).
	f.holder = tenantjobs.NewHolder(&tenantjobs.Source{File: cfg.JobsFile, URL: cfg.JobsURL},
		cfg.MaxRemovedFraction, tenantjobs.Rules{SelectorsOnly: true})
	f.holder.OnRefused = f.reloadRefused
	f.holder.OnLoaded = f.reloadAccepted
	return f, nil
}

func (f *tenantFilter) reloadRefused(err error) {
	f.lastReloadOK.Store(false)
	reason := tenantjobs.Reason(err)
	f.tel.LogxTenantfilterJobReloadsRefused.Add(context.Background(), 1,
		metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
	if f.holder.Table() == nil {
		f.logger.Error("job document refused and none was ever loaded: no tenant's records pass until a good one is",
			zap.String("reason", reason), zap.Error(err))
		return
	}
	f.logger.Error("job document refused; the last good job set stays in force",
		zap.String("reason", reason), zap.Error(err), zap.Int("jobs_in_force", f.holder.Table().Len()))
}

func (f *tenantFilter) reloadAccepted(t *tenantjobs.Table, doc []byte) {
	f.lastReloadOK.Store(true)
	f.logger.Info("job document loaded", zap.Int("jobs", t.Len()))
	if f.cfg.LastGoodFile == "" {
		return
	}
	if err := tenantjobs.SaveLastGood(f.cfg.LastGoodFile, doc); err != nil {
		f.logger.Warn("last good job document not kept; a restart while the document is bad would admit no tenant",
			zap.String("last_good_file", f.cfg.LastGoodFile), zap.Error(err))
	}
}

// start puts the kept last good document in force, reads the document
// once, then rereads it every reload_interval. A document that cannot be
// read at start does not fail the start: the processor then admits what
// the last good document admits, or no tenant at all.
func (f *tenantFilter) start(ctx context.Context, _ component.Host) error {
	f.installLastGood()
	_ = f.holder.Reload(ctx)
	unregister, err := f.tel.ObserveJobs(f.jobState)
	if err != nil {
		return err
	}
	f.unregisterGauges = unregister
	f.guards, err = guard.Register(f.set, f.id, guard.Guard{Name: "max_removed_fraction", Disabled: f.cfg.guardDisabled()})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	f.stopReloads, f.reloadsDone = cancel, make(chan struct{})
	go func() {
		defer close(f.reloadsDone)
		f.holder.Run(runCtx, f.cfg.ReloadInterval)
	}()
	return nil
}

func (f *tenantFilter) installLastGood() {
	if f.cfg.LastGoodFile == "" {
		return
	}
	t, err := f.holder.InstallLastGood(f.cfg.LastGoodFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		f.logger.Warn("last good job document not installed", zap.String("last_good_file", f.cfg.LastGoodFile), zap.Error(err))
	default:
		f.logger.Info("jobs from the last good document kept on disk", zap.Int("jobs", t.Len()))
	}
}

func (f *tenantFilter) jobState() metadata.JobState {
	t := f.holder.Table()
	return metadata.JobState{Jobs: int64(t.Len()), LastReloadSuccess: f.lastReloadOK.Load(), Loaded: t != nil}
}

func (f *tenantFilter) shutdown(context.Context) error {
	if f.stopReloads != nil {
		f.stopReloads()
		<-f.reloadsDone
		f.stopReloads = nil
	}
	var errs []error
	if f.unregisterGauges != nil {
		errs = append(errs, f.unregisterGauges())
		f.unregisterGauges = nil
	}
	errs = append(errs, f.guards.Unregister())
	f.guards = nil
	return errors.Join(errs...)
}
