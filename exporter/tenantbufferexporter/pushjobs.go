package tenantbufferexporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/push"
	"github.com/otelcol-logx/otelcol-logx/internal/grouperr"
	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	jobs "github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"
)

// lastGoodFile keeps the last accepted job document, so that a restart
// while the source is down (or serving garbage) still has the jobs.
const lastGoodFile = "jobs-last-good.yaml"

// deadLetterDir is the dead-letter area, under the exporter's directory.
const deadLetterDir = "deadletter"

// DeadLetterConfig bounds push's dead-letter area (push.dead_letter), where
// batches a destination refused for good are parked. Reaching a cap
// removes the oldest letters first; every removal is counted.
type DeadLetterConfig struct {
	// MaxBytes: all tenants' dead letters together.
	MaxBytes Bytes `mapstructure:"max_bytes"`
	// MaxBytesPerTenant: one tenant's; reaching it removes that tenant's
	// oldest letters only.
	MaxBytesPerTenant Bytes `mapstructure:"max_bytes_per_tenant"`
	// MaxAge: older letters are removed.
	MaxAge Age `mapstructure:"max_age"`
}

func defaultDeadLetterConfig() DeadLetterConfig {
	return DeadLetterConfig{MaxBytes: 1 << 30, MaxBytesPerTenant: 64 << 20, MaxAge: Age(7 * 24 * time.Hour)}
}

// Validate checks the caps; the collector puts the group's path
// ("push::dead_letter: ") in front.
func (c *DeadLetterConfig) Validate() error {
	var errs []error
	errs = append(errs,
		checkBytes("max_bytes", c.MaxBytes, false),
		checkBytes("max_bytes_per_tenant", c.MaxBytesPerTenant, false))
	if c.MaxAge == 0 {
		errs = append(errs, fmt.Errorf("max_age: 0 would remove every letter at once; write a duration (e.g. 168h) or %q", unlimitedWord))
	}
	return grouperr.Join(errs...)
}

func (c *DeadLetterConfig) options(dir string, fsync bool) push.DeadLetterOptions {
	return push.DeadLetterOptions{Dir: filepath.Join(dir, deadLetterDir),
		MaxBytes: max(int64(c.MaxBytes), 0), MaxTenantBytes: max(int64(c.MaxBytesPerTenant), 0),
		MaxAge: max(time.Duration(c.MaxAge), 0), NoSync: !fsync}
}

// DestinationsConfig is what a job document may ask for
// (push.destinations). Job documents may come from a remote source; these
// options are the exporter's, so a document cannot widen them.
type DestinationsConfig struct {
	// FileRoot: file destinations must lie under this directory; empty
	// refuses every file destination.
	FileRoot string `mapstructure:"file_root"`
	// AllowInsecureJobs names the jobs that may push to an http:// url or
	// with tls.insecure_skip_verify; every other job must use https with a
	// verified certificate.
	AllowInsecureJobs []string `mapstructure:"allow_insecure_jobs"`
}

// Validate checks the root; the collector puts the group's path
// ("push::destinations: ") in front.
func (c *DestinationsConfig) Validate() error {
	if c.FileRoot != "" && !filepath.IsAbs(c.FileRoot) {
		return fmt.Errorf("file_root: %q; write an absolute directory, e.g. /var/lib/otelcol-logx/logpush", c.FileRoot)
	}
	return nil
}

// rules are the destinations options as the job parser applies them; the
// exporter's own directory is always out of bounds.
func (c *DestinationsConfig) rules(ownDir string) jobs.Rules {
	if abs, err := filepath.Abs(ownDir); err == nil {
		ownDir = abs // destinations are absolute; so must the directory be to compare
	}
	return jobs.Rules{FileRoot: c.FileRoot, Reserved: []string{ownDir}, AllowInsecure: c.AllowInsecureJobs}
}

// pushSafety is push's dead-letter and destinations configuration.
func (c *Config) pushSafety() (DeadLetterConfig, DestinationsConfig) {
	return c.Push.DeadLetter, c.Push.Destinations
}

// pushRunner runs the job reloads and the pusher beside the store.
type pushRunner struct {
	holder      *jobs.Holder
	pusher      *push.Pusher
	deadLetters *push.DeadLetters
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	reg         metric.Registration
	guards      *guard.Registration
}

// openDeadLetters opens push's dead-letter area. Its Bytes method is the
// figure the store adds to its total.
func (c *Config) openDeadLetters() (*push.DeadLetters, error) {
	dlc, _ := c.pushSafety()
	return push.OpenDeadLetters(dlc.options(c.Directory, c.Durability.Fsync))
}

// startPush starts push beside the store, with the dead-letter area the
// exporter opened before the store (whose total counts its bytes).
func (e *tenantBufferExporter) startPush(st *buffers.Store, dl *push.DeadLetters) (*pushRunner, error) {
	pc := e.cfg.Push
	dlc, dests := e.cfg.pushSafety()
	r := &pushRunner{deadLetters: dl}
	r.holder = jobs.NewHolder(&jobs.Source{File: pc.JobsFile, URL: pc.JobsURL}, pc.MaxRemovedFraction, dests.rules(e.cfg.Directory))
	lastGood := filepath.Join(e.cfg.Directory, lastGoodFile)
	r.holder.OnRefused = func(err error) {
		reason := jobs.Reason(err)
		e.logger.Error("push job config refused; the last good one stays in force",
			zap.String("reason", reason), zap.Error(err), zap.Int("jobs_in_force", r.holder.Table().Len()))
		e.tel.LogxTenantbufferJobReloadsRefused.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
	}
	r.holder.OnLoaded = func(t *jobs.Table, doc []byte) {
		e.logger.Info("push job config loaded", zap.Int("jobs", t.Len()))
		if err := jobs.SaveLastGood(lastGood, doc); err != nil {
			e.logger.Warn("push job config in force but not kept on disk for the next start", zap.Error(err))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	// The last good table is in force before the first reload, so that a
	// document fetched at start meets the same guard as one fetched later
	// (against no table, any valid document would pass).
	e.installLastGood(r.holder, lastGood)
	if err := r.holder.Reload(ctx); err != nil && r.holder.Table() == nil {
		e.logger.Warn("no push job config yet: records of every tenant are treated as without a job",
			zap.String("unmatched", e.cfg.Push.Unmatched))
	}
	r.pusher = push.New(push.Options{
		Store: st, Consumer: pushConsumer, Jobs: r.holder.Table,
		Workers: pc.Workers, QuantumBytes: int(pc.QuantumBytes),
		BackoffInitial: pc.BackoffInitial, BackoffMax: pc.BackoffMax,
		BreakerFailures: pc.BreakerFailures, BreakerOpen: pc.BreakerOpen,
		DeadLetters: dl,
	})
	r.pusher.Start(st.Tenants())
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.holder.Run(ctx, pc.ReloadInterval)
	}()
	reg, err := e.registerPushGauges(r, st)
	if err != nil {
		r.stop()
		return nil, err
	}
	r.reg = reg
	if r.guards, err = guard.Register(e.telSet, e.id, pushGuards(&pc, dlc, dests, dl)...); err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

// installLastGood puts the last accepted document kept on disk in force.
// One that the current rules refuse (they were tightened since) is not
// installed: it would deliver where the configuration no longer allows.
func (e *tenantBufferExporter) installLastGood(h *jobs.Holder, path string) {
	t, err := h.InstallLastGood(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		e.logger.Warn("last good push job config not installed", zap.Error(err))
	default:
		e.logger.Info("push jobs from the last good config kept on disk", zap.Int("jobs", t.Len()))
	}
}

// pushGuards are push's safeguards as internal/guard reports them.
func pushGuards(pc *PushConfig, dlc DeadLetterConfig, dests DestinationsConfig, dl *push.DeadLetters) []guard.Guard {
	return []guard.Guard{
		{Name: "push.max_removed_fraction", Disabled: pc.MaxRemovedFraction >= 1},
		{Name: "push.dead_letter.max_bytes", Disabled: dlc.MaxBytes.Unlimited(), Limit: int64(dlc.MaxBytes), Use: dl.Bytes},
		{Name: "push.dead_letter.max_bytes_per_tenant", Disabled: dlc.MaxBytesPerTenant.Unlimited(), Limit: int64(dlc.MaxBytesPerTenant),
			Use: func() int64 { return dl.Stats().LargestTenantBytes }},
		{Name: "push.dead_letter.max_age", Disabled: dlc.MaxAge.Unlimited(), Limit: int64(time.Duration(dlc.MaxAge) / time.Second),
			Use: func() int64 { return int64(dl.Stats().OldestAge / time.Second) }},
		{Name: "push.destinations.file_root", Disabled: dests.FileRoot == "/"},
		{Name: "push.destinations.allow_insecure_jobs", Disabled: len(dests.AllowInsecureJobs) > 0},
	}
}

// deadLetterBytes is what push's dead-letter area holds: the figure for
// the store's total (buffers.Options.ExternalBytes).
func (r *pushRunner) deadLetterBytes() int64 { return r.deadLetters.Bytes() }

func (r *pushRunner) stop() {
	_ = r.guards.Unregister()
	if r.reg != nil {
		_ = r.reg.Unregister()
	}
	r.cancel()
	r.wg.Wait()
	r.pusher.Stop()
}

func (e *tenantBufferExporter) registerPushGauges(r *pushRunner, st *buffers.Store) (metric.Registration, error) {
	t := e.tel
	return t.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		p := r.pusher
		o.ObserveInt64(t.LogxTenantbufferPushBatches, p.Batches.Load())
		o.ObserveInt64(t.LogxTenantbufferPushRecords, p.Records.Load())
		o.ObserveInt64(t.LogxTenantbufferPushBytes, p.Bytes.Load())
		o.ObserveInt64(t.LogxTenantbufferPushParkedRecords, p.Parked.Load())
		o.ObserveInt64(t.LogxTenantbufferPushBreakerOpens, p.BreakerOpens.Load())
		o.ObserveInt64(t.LogxTenantbufferJobs, int64(r.holder.Table().Len()))
		for reason, n := range p.Failures() {
			o.ObserveInt64(t.LogxTenantbufferPushFailures, n, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
		}
		counts, worst := p.States(e.cfg.Telemetry.TopTenants)
		for state, n := range counts {
			o.ObserveInt64(t.LogxTenantbufferPushTenants, int64(n), metric.WithAttributeSet(attribute.NewSet(attribute.String("state", state))))
		}
		for _, w := range worst {
			o.ObserveInt64(t.LogxTenantbufferPushTenantState, 1, metric.WithAttributeSet(attribute.NewSet(
				attribute.String("tenant", w.Tenant), attribute.String("state", w.State))))
		}
		p.ObserveWaits(o, t, e.cfg.Telemetry.TopTenants)
		dls := r.deadLetters.Stats()
		o.ObserveInt64(t.LogxTenantbufferPushDeadLetterBytes, r.deadLetterBytes())
		for reason, n := range dls.RemovedBytes {
			o.ObserveInt64(t.LogxTenantbufferPushDeadLetterRemovedBytes, n, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
		}
		for reason, n := range dls.RemovedRecords {
			o.ObserveInt64(t.LogxTenantbufferPushDeadLetterRemovedRecords, n, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
		}
		// Lag for the largest tenants only (their buffers, as of the last
		// sweep): counters of the store, and one frame header read each
		// for the age, never a scan of the data.
		for _, ts := range st.Stats().Top {
			l, err := p.LagOf(ts.Tenant)
			if err != nil {
				continue
			}
			attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String("tenant", ts.Tenant)))
			o.ObserveInt64(t.LogxTenantbufferPushLagBytes, l.Bytes, attrs)
			o.ObserveInt64(t.LogxTenantbufferPushLagRecords, l.Records, attrs)
			o.ObserveFloat64(t.LogxTenantbufferPushLagAge, l.OldestAge.Seconds(), attrs)
		}
		return nil
	},
		t.LogxTenantbufferPushBatches,
		t.LogxTenantbufferPushRecords,
		t.LogxTenantbufferPushBytes,
		t.LogxTenantbufferPushParkedRecords,
		t.LogxTenantbufferPushBreakerOpens,
		t.LogxTenantbufferJobs,
		t.LogxTenantbufferPushFailures,
		t.LogxTenantbufferPushLagBytes,
		t.LogxTenantbufferPushLagRecords,
		t.LogxTenantbufferPushLagAge,
		t.LogxTenantbufferPushTenants,
		t.LogxTenantbufferPushTenantState,
		t.LogxTenantbufferPushDeadLetterBytes,
		t.LogxTenantbufferPushDeadLetterRemovedBytes,
		t.LogxTenantbufferPushDeadLetterRemovedRecords,
		t.LogxTenantbufferPushPacedSeconds,
		t.LogxTenantbufferPushPacedWaits,
		t.LogxTenantbufferPushRetryAfter,
	)
}
