package tenantbufferexporter

import (
	"context"
	"os"
	"path/filepath"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/jobs"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/push"
)

// lastGoodFile keeps the last accepted job document, so that a restart
// while the source is down (or serving garbage) still has the jobs.
const lastGoodFile = "jobs-last-good.yaml"

// pushRunner runs the job reloads and the pusher beside the store.
type pushRunner struct {
	holder *jobs.Holder
	pusher *push.Pusher
	cancel context.CancelFunc
	wg     sync.WaitGroup
	reg    metric.Registration
}

func (e *tenantBufferExporter) startPush(st *buffers.Store) (*pushRunner, error) {
	pc := e.cfg.Push
	r := &pushRunner{}
	r.holder = jobs.NewHolder(&jobs.Source{File: pc.JobsFile, URL: pc.JobsURL}, pc.MaxRemovedFraction)
	lastGood := filepath.Join(e.cfg.Directory, lastGoodFile)
	r.holder.OnRefused = func(err error) {
		reason := jobs.Reason(err)
		e.logger.Error("push job config refused; the last good one stays in force",
			zap.String("reason", reason), zap.Error(err), zap.Int("jobs_in_force", r.holder.Table().Len()))
		e.tel.JobReloadsRefused.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
	}
	r.holder.OnLoaded = func(t *jobs.Table, doc []byte) {
		e.logger.Info("push job config loaded", zap.Int("jobs", t.Len()))
		tmp := lastGood + ".tmp"
		if err := os.WriteFile(tmp, doc, 0o640); err == nil {
			_ = os.Rename(tmp, lastGood)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	if err := r.holder.Reload(ctx); err != nil {
		if doc, rerr := os.ReadFile(lastGood); rerr == nil {
			if t, perr := jobs.Parse(doc); perr == nil {
				r.holder.Install(t)
				e.logger.Warn("push jobs from the last good config kept on disk", zap.Int("jobs", t.Len()))
			}
		}
		if r.holder.Table() == nil {
			e.logger.Warn("no push job config yet: records of every tenant are treated as without a job",
				zap.String("unmatched", e.cfg.Push.Unmatched))
		}
	}
	r.pusher = push.New(push.Options{
		Store: st, Consumer: pushConsumer, Jobs: r.holder.Table,
		Workers: pc.Workers, QuantumBytes: int(pc.QuantumBytes),
		BackoffInitial: pc.BackoffInitial, BackoffMax: pc.BackoffMax,
		BreakerFailures: pc.BreakerFailures, BreakerOpen: pc.BreakerOpen,
		DeadLetterDir: filepath.Join(e.cfg.Directory, "deadletter"),
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
	return r, nil
}

func (r *pushRunner) stop() {
	if r.reg != nil {
		_ = r.reg.Unregister()
	}
	r.cancel()
	r.wg.Wait()
	r.pusher.Stop()
}

func (e *tenantBufferExporter) registerPushGauges(r *pushRunner, st *buffers.Store) (metric.Registration, error) {
	t := e.tel
	return t.Meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		p := r.pusher
		o.ObserveInt64(t.PushBatches, p.Batches.Load())
		o.ObserveInt64(t.PushRecords, p.Records.Load())
		o.ObserveInt64(t.PushBytes, p.Bytes.Load())
		o.ObserveInt64(t.PushParked, p.Parked.Load())
		o.ObserveInt64(t.BreakerOpens, p.BreakerOpens.Load())
		o.ObserveInt64(t.Jobs, int64(r.holder.Table().Len()))
		for reason, n := range p.Failures() {
			o.ObserveInt64(t.PushFailures, n, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
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
			o.ObserveInt64(t.LagBytes, l.Bytes, attrs)
			o.ObserveInt64(t.LagRecords, l.Records, attrs)
			o.ObserveFloat64(t.LagAge, l.OldestAge.Seconds(), attrs)
		}
		return nil
	}, t.PushBatches, t.PushRecords, t.PushBytes, t.PushParked, t.BreakerOpens, t.Jobs, t.PushFailures, t.LagBytes, t.LagRecords, t.LagAge)
}
