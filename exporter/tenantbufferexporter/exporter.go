package tenantbufferexporter

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/jobs"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/recordcodec"
)

// Reasons the exporter itself refuses a record, before the store's guards.
const (
	reasonMissingTenant = "missing_tenant"
	reasonTenantTooLong = "tenant_too_long"
	reasonEncode        = "encode_error"
	reasonNoJob         = "no_job"
)

type tenantBufferExporter struct {
	cfg    *Config
	logger *zap.Logger
	tel    *metadata.Telemetry

	mu    sync.RWMutex // guards store against start/shutdown only
	store *buffers.Store
	reg   metric.Registration
	push  *pushRunner // nil unless push jobs are configured

	reasonAttrs map[string]metric.MeasurementOption
	batchers    sync.Pool
}

// batcher groups one ConsumeLogs call's records by tenant; pooled, so its
// map and slices are reused from call to call.
type batcher struct {
	enc     *recordcodec.Encoder
	index   map[string]int
	batch   []buffers.TenantRecords
	refused map[string]int
}

func newTenantBufferExporter(cfg *Config, set exporter.Settings) (*tenantBufferExporter, error) {
	tel, err := metadata.NewTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	e := &tenantBufferExporter{cfg: cfg, logger: set.Logger, tel: tel, reasonAttrs: map[string]metric.MeasurementOption{}}
	for _, r := range buffers.Reasons() {
		e.reasonAttrs[r.String()] = reasonAttr(r.String())
	}
	for _, r := range []string{reasonMissingTenant, reasonTenantTooLong, reasonEncode, reasonNoJob} {
		e.reasonAttrs[r] = reasonAttr(r)
	}
	e.batchers.New = func() any {
		return &batcher{enc: recordcodec.NewEncoder(), index: map[string]int{}, refused: map[string]int{}}
	}
	return e, nil
}

func reasonAttr(r string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r)))
}

func (e *tenantBufferExporter) start(_ context.Context, _ component.Host) error {
	st, err := buffers.Open(e.cfg.storeOptions())
	if err != nil {
		return err
	}
	stats := st.Stats()
	if stats.TornSegments > 0 {
		e.logger.Warn("cut torn or corrupt tails off tenant buffers at start-up",
			zap.Int64("segments", stats.TornSegments), zap.Int64("bytes", stats.TornBytes))
	}
	e.logger.Info("tenant buffers open", zap.String("directory", e.cfg.Directory),
		zap.Int64("buffers", stats.Buffers), zap.Int64("bytes", stats.Bytes))
	reg, err := e.registerGauges(st)
	if err != nil {
		_ = st.Close()
		return err
	}
	var pr *pushRunner
	if e.cfg.Push.Enabled() {
		if pr, err = e.startPush(st); err != nil {
			_ = reg.Unregister()
			_ = st.Close()
			return err
		}
	}
	e.mu.Lock()
	e.store, e.reg, e.push = st, reg, pr
	e.mu.Unlock()
	return nil
}

func (e *tenantBufferExporter) shutdown(context.Context) error {
	e.mu.Lock()
	st, reg, pr := e.store, e.reg, e.push
	e.store, e.reg, e.push = nil, nil, nil
	e.mu.Unlock()
	if pr != nil {
		pr.stop()
	}
	var errs []error
	if reg != nil {
		errs = append(errs, reg.Unregister())
	}
	if st != nil {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// Store returns the running store (nil before start): the read, commit and
// delete API that push jobs and tests use.
func (e *tenantBufferExporter) Store() *buffers.Store {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.store
}

// tenantOf finds the tenant key: the record's attribute, else the resource's.
func tenantOf(attr string, rec, res pcommon.Map) (string, bool) {
	v, ok := rec.Get(attr)
	if !ok {
		v, ok = res.Get(attr)
	}
	if !ok {
		return "", false
	}
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str(), v.Str() != ""
	}
	s := v.AsString()
	return s, s != ""
}

// consumeLogs groups the records by tenant and appends every group; it
// returns once the accepted records are durable (with durability.fsync).
func (e *tenantBufferExporter) consumeLogs(ctx context.Context, ld plog.Logs) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.store == nil {
		return buffers.ErrClosed
	}
	b := e.batchers.Get().(*batcher)
	defer e.release(b)

	attr, maxLen, def := e.cfg.Tenant.Attribute, e.cfg.Tenant.MaxLength, e.cfg.Tenant.Default
	// With push jobs and unmatched: drop, a tenant without a job never gets
	// a buffer: a blank or missing job config admits nobody new.
	var jobTable *jobs.Table
	dropNoJob := e.push != nil && e.cfg.Push.Unmatched == "drop"
	if dropNoJob {
		jobTable = e.push.holder.Table()
	}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		resAttrs := rl.Resource().Attributes()
		b.enc.SetResource(rl)
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			b.enc.SetScope(sl)
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				tenant, ok := tenantOf(attr, lr.Attributes(), resAttrs)
				switch {
				case !ok && def == "":
					b.refused[reasonMissingTenant]++
					continue
				case !ok:
					tenant = def
				case len(tenant) > maxLen:
					b.refused[reasonTenantTooLong]++
					continue
				}
				if dropNoJob {
					if _, ok := jobTable.Lookup(tenant); !ok {
						b.refused[reasonNoJob]++
						continue
					}
				}
				payload, err := b.enc.Encode(lr)
				if err != nil {
					b.refused[reasonEncode]++
					continue
				}
				idx, seen := b.index[tenant]
				if !seen {
					idx = len(b.batch)
					b.index[tenant] = idx
					if idx < cap(b.batch) {
						b.batch = b.batch[:idx+1]
						b.batch[idx].Tenant = tenant
					} else {
						b.batch = append(b.batch, buffers.TenantRecords{Tenant: tenant})
					}
				}
				b.batch[idx].Payloads = append(b.batch[idx].Payloads, payload)
			}
		}
	}
	res, err := e.store.Append(b.batch)
	if e.push != nil {
		for _, tr := range b.batch {
			// Only tenants that have a buffer: a refused tenant must not
			// cost the pusher any state.
			if _, ok := e.store.TenantBytes(tr.Tenant); ok {
				e.push.pusher.Notify(tr.Tenant, len(tr.Payloads))
			}
		}
	}
	if res.Accepted > 0 {
		e.tel.RecordsAccepted.Add(ctx, int64(res.Accepted))
	}
	for _, r := range buffers.Reasons() {
		if n := res.Refused[r]; n > 0 {
			b.refused[r.String()] += n
		}
	}
	for reason, n := range b.refused {
		if n > 0 {
			e.tel.RecordsRefused.Add(ctx, int64(n), e.reasonAttrs[reason])
		}
	}
	return err
}

func (e *tenantBufferExporter) release(b *batcher) {
	for i := range b.batch {
		clear(b.batch[i].Payloads)
		b.batch[i].Payloads = b.batch[i].Payloads[:0]
	}
	b.batch = b.batch[:0]
	// A call with very many tenants must not pin its map for ever.
	if len(b.index) > 4096 {
		b.index = map[string]int{}
		b.batch = nil
	} else {
		clear(b.index)
	}
	clear(b.refused)
	e.batchers.Put(b)
}

// registerGauges publishes the store's figures; the callback reads atomic
// counters and the top-N list of the last sweep, never the tenant table.
func (e *tenantBufferExporter) registerGauges(st *buffers.Store) (metric.Registration, error) {
	t := e.tel
	removed := func(r string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r)))
	}
	return t.Meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := st.Stats()
		o.ObserveInt64(t.Buffers, s.Buffers)
		o.ObserveInt64(t.Bytes, s.Bytes)
		if s.BudgetBytes != maxInt64 {
			o.ObserveInt64(t.BudgetBytes, s.BudgetBytes)
		}
		if s.FairLevelBytes != maxInt64 {
			o.ObserveInt64(t.FairShareBytes, s.FairLevelBytes)
		}
		o.ObserveInt64(t.OpenFiles, int64(s.OpenFiles))
		o.ObserveInt64(t.RemovedBytes, s.ReclaimedBytes, removed("reclaimed"))
		o.ObserveInt64(t.RemovedBytes, s.ExpiredBytes, removed("expired"))
		o.ObserveInt64(t.RemovedBytes, s.ConsumedBytes, removed("consumed"))
		o.ObserveInt64(t.RemovedBytes, s.DeletedBytes, removed("deleted"))
		o.ObserveInt64(t.RemovedBytes, s.TornBytes, removed("torn"))
		o.ObserveInt64(t.OverflowRecords, s.Overflowed)
		o.ObserveInt64(t.BadPositionFiles, s.BadPositions)
		for _, ts := range s.Top {
			o.ObserveInt64(t.TenantBytes, ts.Bytes, metric.WithAttributeSet(attribute.NewSet(attribute.String("tenant", ts.Tenant))))
		}
		return nil
	}, t.Buffers, t.Bytes, t.BudgetBytes, t.FairShareBytes, t.OpenFiles, t.RemovedBytes, t.TenantBytes, t.OverflowRecords, t.BadPositionFiles)
}

const maxInt64 = 1<<63 - 1
