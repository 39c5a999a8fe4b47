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
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/push"
	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/otlprecord"
	jobs "github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"
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
	tel    *metadata.TelemetryBuilder
	id     component.ID // as configured, e.g. tenantbuffer/a: the guards' component
	telSet component.TelemetrySettings

	mu     sync.RWMutex // guards store against start/shutdown only
	store  *buffers.Store
	reg    metric.Registration
	guards *guard.Registration
	push   *pushRunner // nil unless push jobs are configured

	reasonAttrs map[string]metric.MeasurementOption
	batchers    sync.Pool
}

// batcher groups one ConsumeLogs call's records by tenant; pooled, so its
// map and slices are reused from call to call.
type batcher struct {
	enc     *otlprecord.ProtoEncoder
	index   map[string]int
	batch   []buffers.TenantRecords
	refused map[string]int
}

func newTenantBufferExporter(cfg *Config, set exporter.Settings) (*tenantBufferExporter, error) {
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	e := &tenantBufferExporter{cfg: cfg, logger: set.Logger, tel: tel, id: set.ID, telSet: set.TelemetrySettings,
		reasonAttrs: map[string]metric.MeasurementOption{}}
	for _, r := range buffers.Reasons() {
		e.reasonAttrs[r.String()] = reasonAttr(r.String())
	}
	for _, r := range []string{reasonMissingTenant, reasonTenantTooLong, reasonEncode, reasonNoJob} {
		e.reasonAttrs[r] = reasonAttr(r)
	}
	e.batchers.New = func() any {
		return &batcher{enc: otlprecord.NewProtoEncoder(), index: map[string]int{}, refused: map[string]int{}}
	}
	return e, nil
}

func reasonAttr(r string) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r)))
}

func (e *tenantBufferExporter) start(_ context.Context, _ component.Host) error {
	opts := e.cfg.storeOptions()
	var deadLetters *push.DeadLetters
	if e.cfg.Push.Enabled() {
		// Opened before the store, whose total counts its bytes.
		dl, err := e.cfg.openDeadLetters()
		if err != nil {
			return err
		}
		deadLetters, opts.ExternalBytes = dl, dl.Bytes
	}
	st, err := buffers.Open(opts)
	if err != nil {
		return err
	}
	stats := st.Stats()
	if stats.TornSegments > 0 {
		e.logger.Warn("cut torn or corrupt tails off tenant buffers at start-up",
			zap.Int64("segments", stats.TornSegments), zap.Int64("bytes", stats.TornBytes))
	}
	if stats.UnreadableDirs > 0 {
		e.logger.Warn("left alone directories of the buffer area that are no tenant's buffer: a second directory of one tenant, or one whose name file was lost with records in it",
			zap.String("directory", e.cfg.Directory), zap.Int64("directories", stats.UnreadableDirs))
	}
	e.logger.Info("tenant buffers open", zap.String("directory", e.cfg.Directory),
		zap.Int64("buffers", stats.Buffers), zap.Int64("bytes", stats.Bytes))
	reg, err := e.registerGauges(st)
	if err != nil {
		_ = st.Close()
		return err
	}
	guards, err := guard.Register(e.telSet, e.id, storeGuards(e.cfg, st)...)
	if err != nil {
		_ = reg.Unregister()
		_ = st.Close()
		return err
	}
	var pr *pushRunner
	if e.cfg.Push.Enabled() {
		if pr, err = e.startPush(st, deadLetters); err != nil {
			_ = guards.Unregister()
			_ = reg.Unregister()
			_ = st.Close()
			return err
		}
	}
	e.mu.Lock()
	e.store, e.reg, e.guards, e.push = st, reg, guards, pr
	e.mu.Unlock()
	return nil
}

func (e *tenantBufferExporter) shutdown(context.Context) error {
	e.mu.Lock()
	st, reg, guards, pr := e.store, e.reg, e.guards, e.push
	e.store, e.reg, e.guards, e.push = nil, nil, nil, nil
	e.mu.Unlock()
	if pr != nil {
		pr.stop()
	}
	var errs []error
	if reg != nil {
		errs = append(errs, reg.Unregister())
	}
	errs = append(errs, guards.Unregister())
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

	e.groupByTenant(b, ld, e.tenantRouting())
	res, err := e.store.Append(b.batch)
	e.logAppendFailure(res)
	e.notifyPusher(b.batch)
	e.countOutcomes(ctx, b, res)
	return err
}

// tenantRouting is how consumeLogs finds a record's tenant, and whether a
// tenant without a push job is refused.
type tenantRouting struct {
	attr      string
	maxLen    int
	def       string
	dropNoJob bool
	jobTable  *jobs.Table
}

func (e *tenantBufferExporter) tenantRouting() tenantRouting {
	attr, maxLen, def := e.cfg.Tenant.Attribute, e.cfg.Tenant.MaxLength, e.cfg.Tenant.Default
	// With push jobs and unmatched: drop, a tenant without a job never gets
	// a buffer: a blank or missing job config admits nobody new.
	var jobTable *jobs.Table
	dropNoJob := e.push != nil && e.cfg.Push.Unmatched == "drop"
	if dropNoJob {
		jobTable = e.push.holder.Table()
	}
	return tenantRouting{attr: attr, maxLen: maxLen, def: def, dropNoJob: dropNoJob, jobTable: jobTable}
}

// groupByTenant encodes every record of ld into b's batch, under its
// tenant; records refused on the way are counted in b.refused.
func (e *tenantBufferExporter) groupByTenant(b *batcher, ld plog.Logs, route tenantRouting) {
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
				tenant, ok := route.tenantOf(b, lr, resAttrs)
				if !ok {
					continue
				}
				payload, err := b.enc.Encode(lr)
				if err != nil {
					b.refused[reasonEncode]++
					continue
				}
				b.add(tenant, payload)
			}
		}
	}
}

// tenantOf is lr's tenant; false (counted in b.refused) when the record is
// refused: no tenant and no default, a tenant too long, or no push job.
func (r tenantRouting) tenantOf(b *batcher, lr plog.LogRecord, resAttrs pcommon.Map) (string, bool) {
	tenant, ok := logattr.StringOf(r.attr, lr.Attributes(), resAttrs)
	switch {
	case !ok && r.def == "":
		b.refused[reasonMissingTenant]++
		return "", false
	case !ok:
		tenant = r.def
	case len(tenant) > r.maxLen:
		b.refused[reasonTenantTooLong]++
		return "", false
	}
	if r.dropNoJob {
		if _, ok := r.jobTable.Lookup(tenant); !ok {
			b.refused[reasonNoJob]++
			return "", false
		}
	}
	return tenant, true
}

// add appends payload to tenant's records in the batch, reusing the
// batcher's slots.
func (b *batcher) add(tenant string, payload []byte) {
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

// logAppendFailure logs a tenant whose buffer could not be written.
func (e *tenantBufferExporter) logAppendFailure(res buffers.AppendResult) {
	if res.Failure != nil {
		// Counted as refused, and not returned: the call succeeds for the
		// other tenants, so that upstream does not send them again.
		e.logger.Warn("records refused: a tenant's buffer could not be written; the other tenants' records are stored",
			zap.Int("tenant_dir", res.Refused[buffers.ReasonTenantDir]),
			zap.Int("write_error", res.Refused[buffers.ReasonWriteError]), zap.Error(res.Failure))
	}
}

// notifyPusher tells the push jobs which tenants have new records.
func (e *tenantBufferExporter) notifyPusher(batch []buffers.TenantRecords) {
	if e.push != nil {
		for _, tr := range batch {
			// Only tenants that have a buffer: a refused tenant must not
			// cost the pusher any state.
			if _, ok := e.store.TenantBytes(tr.Tenant); ok {
				e.push.pusher.Notify(tr.Tenant, len(tr.Payloads))
			}
		}
	}
}

// countOutcomes counts the records accepted and those refused, by reason
// (the store's and consumeLogs' own).
func (e *tenantBufferExporter) countOutcomes(ctx context.Context, b *batcher, res buffers.AppendResult) {
	if res.Accepted > 0 {
		e.tel.LogxTenantbufferRecordsAccepted.Add(ctx, int64(res.Accepted))
	}
	for _, r := range buffers.Reasons() {
		if n := res.Refused[r]; n > 0 {
			b.refused[r.String()] += n
		}
	}
	for reason, n := range b.refused {
		if n > 0 {
			e.tel.LogxTenantbufferRecordsRefused.Add(ctx, int64(n), e.reasonAttrs[reason])
		}
	}
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
	return t.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := st.Stats()
		o.ObserveInt64(t.LogxTenantbufferBuffers, s.Buffers)
		o.ObserveInt64(t.LogxTenantbufferBytes, s.Bytes)
		if s.BudgetBytes != maxInt64 {
			o.ObserveInt64(t.LogxTenantbufferBudgetBytes, s.BudgetBytes)
		}
		if s.FairLevelBytes != maxInt64 {
			o.ObserveInt64(t.LogxTenantbufferFairShareBytes, s.FairLevelBytes)
		}
		o.ObserveInt64(t.LogxTenantbufferOpenFiles, int64(s.OpenFiles))
		o.ObserveInt64(t.LogxTenantbufferRemovedBytes, s.ReclaimedBytes, removed("reclaimed"))
		o.ObserveInt64(t.LogxTenantbufferRemovedBytes, s.ExpiredBytes, removed("expired"))
		o.ObserveInt64(t.LogxTenantbufferRemovedBytes, s.ConsumedBytes, removed("consumed"))
		o.ObserveInt64(t.LogxTenantbufferRemovedBytes, s.DeletedBytes, removed("deleted"))
		o.ObserveInt64(t.LogxTenantbufferRemovedBytes, s.TornBytes, removed("torn"))
		o.ObserveInt64(t.LogxTenantbufferOverflowRecords, s.Overflowed)
		o.ObserveInt64(t.LogxTenantbufferBadPositionFiles, s.BadPositions)
		for _, ts := range s.Top {
			o.ObserveInt64(t.LogxTenantbufferTenantBytes, ts.Bytes, metric.WithAttributeSet(attribute.NewSet(attribute.String("tenant", ts.Tenant))))
		}
		return nil
	},
		t.LogxTenantbufferBuffers,
		t.LogxTenantbufferBytes,
		t.LogxTenantbufferBudgetBytes,
		t.LogxTenantbufferFairShareBytes,
		t.LogxTenantbufferOpenFiles,
		t.LogxTenantbufferRemovedBytes,
		t.LogxTenantbufferTenantBytes,
		t.LogxTenantbufferOverflowRecords,
		t.LogxTenantbufferBadPositionFiles,
	)
}

const maxInt64 = 1<<63 - 1

// storeGuards are the store's caps as internal/guard reports them: which
// are switched off, and how full each of the others is. The figures are
// atomic loads of the store (Usage), never a pass over the tenants.
func storeGuards(cfg *Config, st *buffers.Store) []guard.Guard {
	lim := cfg.Limits
	gs := []guard.Guard{
		{
			Name: "limits.max_buffers", Disabled: lim.MaxBuffers < 0, Limit: int64(lim.MaxBuffers),
			Use: func() int64 { return st.Usage().Buffers },
		},
		{
			// Bytes held outside the buffers count toward the cap too.
			Name: "limits.max_total_bytes", Disabled: lim.MaxTotalBytes.Unlimited(), Limit: int64(lim.MaxTotalBytes),
			Use: func() int64 { u := st.Usage(); return u.Bytes + u.ExternalBytes },
		},
		{
			// The largest buffer, as of the last sweep.
			Name: "limits.max_bytes_per_tenant", Disabled: lim.MaxBytesPerTenant.Unlimited(), Limit: int64(lim.MaxBytesPerTenant),
			Use: func() int64 { return st.Usage().LargestTenantBytes },
		},
		{
			// How much of the room above the watermark is used: 1 when
			// free space is down to min_free_disk_bytes.
			Name: "limits.min_free_disk_bytes", Disabled: lim.MinFreeDiskBytes.Unlimited(), Limit: int64(lim.MinFreeDiskBytes),
			Use: ratioOf(int64(lim.MinFreeDiskBytes), func() (int64, int64) {
				u := st.Usage()
				return u.Bytes + u.ExternalBytes, u.DiskBudgetBytes
			}),
		},
		{
			Name: "limits.max_open_files", Limit: int64(lim.MaxOpenFiles),
			Use: func() int64 { return st.Usage().OpenFiles },
		},
		{Name: "retention.max_age", Disabled: cfg.Retention.MaxAge.Unlimited()},
	}
	for tenant, age := range cfg.Retention.PerTenant {
		if age.Unlimited() {
			gs = append(gs, guard.Guard{Name: "retention.per_tenant." + tenant, Disabled: true})
		}
	}
	return gs
}

// ratioOf turns a ratio whose denominator moves (used / room) into the
// Use of a guard whose Limit is fixed: the guard reports Use/Limit, so Use
// is the ratio times the limit.
func ratioOf(limit int64, parts func() (used, room int64)) func() int64 {
	return func() int64 {
		used, room := parts()
		switch {
		case room == maxInt64:
			return 0 // no figure yet (the file system could not be asked)
		case room <= 0:
			return limit // no room at all: full
		}
		return int64(float64(used) / float64(room) * float64(limit))
	}
}
