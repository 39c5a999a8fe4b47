package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry is the exporter's own instruments. Gauges of the store (buffers,
// bytes, per-tenant bytes of the largest tenants, ...) are observed in a
// callback registered by the exporter with RegisterCallback.
type Telemetry struct {
	Meter            metric.Meter
	RecordsAccepted  metric.Int64Counter
	RecordsRefused   metric.Int64Counter // attribute reason
	Buffers          metric.Int64ObservableGauge
	Bytes            metric.Int64ObservableGauge
	BudgetBytes      metric.Int64ObservableGauge
	FairShareBytes   metric.Int64ObservableGauge
	OpenFiles        metric.Int64ObservableGauge
	RemovedBytes     metric.Int64ObservableCounter // attribute reason: reclaimed, expired, consumed, deleted, torn
	TenantBytes      metric.Int64ObservableGauge   // attribute tenant; the largest N tenants only
	OverflowRecords  metric.Int64ObservableCounter
	BadPositionFiles metric.Int64ObservableCounter

	// Push jobs (part 2).
	JobReloadsRefused metric.Int64Counter // attribute reason: blank, parse, invalid, removes_too_many, fetch
	Jobs              metric.Int64ObservableGauge
	PushBatches       metric.Int64ObservableCounter
	PushRecords       metric.Int64ObservableCounter
	PushBytes         metric.Int64ObservableCounter
	PushParked        metric.Int64ObservableCounter
	PushFailures      metric.Int64ObservableCounter // attribute reason
	BreakerOpens      metric.Int64ObservableCounter
	LagBytes          metric.Int64ObservableGauge   // attribute tenant; largest N
	LagRecords        metric.Int64ObservableGauge   // attribute tenant; largest N
	LagAge            metric.Float64ObservableGauge // attribute tenant; largest N

	// Push destinations' state and the dead-letter area.
	PushTenants                  metric.Int64ObservableGauge   // attribute state: ok, retrying, breaker_open
	PushTenantState              metric.Int64ObservableGauge   // attributes tenant, state; tenants in trouble, at most top_tenants
	PushDeadLetterBytes          metric.Int64ObservableGauge   // bytes held
	PushDeadLetterRemovedBytes   metric.Int64ObservableCounter // attribute reason: total_bytes, tenant_bytes, expired, too_large
	PushDeadLetterRemovedRecords metric.Int64ObservableCounter // attribute reason, as above

	// Paced pushes: waits for a job's pace or a destination's Retry-After.
	PushPacedSeconds metric.Float64ObservableCounter // attributes tenant, cause (pace, retry_after); the top_tenants longest waiting
	PushPacedWaits   metric.Int64ObservableCounter   // attributes tenant, cause, as above
	PushRetryAfter   metric.Int64ObservableCounter   // attribute outcome: honoured, capped, ignored
}

// NewTelemetry creates the instruments.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	t := &Telemetry{Meter: m}
	var errs, err error
	t.RecordsAccepted, err = m.Int64Counter("otelcol_logx_tenantbuffer_records_accepted",
		metric.WithDescription("Log records written to a tenant buffer (durable when the call returned)."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsRefused, err = m.Int64Counter("otelcol_logx_tenantbuffer_records_refused",
		metric.WithDescription("Log records not buffered, by reason."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.Buffers, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_buffers",
		metric.WithDescription("Tenant buffers that exist."), metric.WithUnit("{buffers}"))
	errs = errors.Join(errs, err)
	t.Bytes, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_bytes",
		metric.WithDescription("Bytes held by all tenant buffers."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.BudgetBytes, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_budget_bytes",
		metric.WithDescription("Effective byte budget: max_total_bytes, lowered by the free-disk watermark."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.FairShareBytes, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_fair_share_bytes",
		metric.WithDescription("Max-min fair share per tenant used by the last reclaim (absent before the first)."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.OpenFiles, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_open_files",
		metric.WithDescription("Segment writers open (bounded by limits.max_open_files)."), metric.WithUnit("{files}"))
	errs = errors.Join(errs, err)
	t.RemovedBytes, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_removed_bytes",
		metric.WithDescription("Bytes removed from buffers, by reason (reclaimed, expired, consumed, deleted, torn)."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.TenantBytes, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_tenant_bytes",
		metric.WithDescription("Bytes held by each of the largest telemetry.top_tenants buffers."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.OverflowRecords, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_overflow_records",
		metric.WithDescription("Records of tenants beyond the buffer cap written to the overflow buffer."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.BadPositionFiles, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_bad_position_files",
		metric.WithDescription("Consumer position files found damaged at start-up (the consumer restarts from the oldest record)."), metric.WithUnit("{files}"))
	errs = errors.Join(errs, err)
	t.JobReloadsRefused, err = m.Int64Counter("otelcol_logx_tenantbuffer_job_reloads_refused",
		metric.WithDescription("Job config reloads refused (the last good config stayed in force), by reason."), metric.WithUnit("{reloads}"))
	errs = errors.Join(errs, err)
	t.Jobs, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_jobs",
		metric.WithDescription("Push jobs in force."), metric.WithUnit("{jobs}"))
	errs = errors.Join(errs, err)
	t.PushBatches, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_push_batches",
		metric.WithDescription("Batches accepted by their destination."), metric.WithUnit("{batches}"))
	errs = errors.Join(errs, err)
	t.PushRecords, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_push_records",
		metric.WithDescription("Records accepted by their destination."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.PushBytes, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_push_bytes",
		metric.WithDescription("Payload bytes accepted by their destination."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.PushParked, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_push_parked_records",
		metric.WithDescription("Records a destination rejected for good, parked in the tenant's dead-letter area."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.PushFailures, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_push_failures",
		metric.WithDescription("Failed pushes, by reason."), metric.WithUnit("{pushes}"))
	errs = errors.Join(errs, err)
	t.BreakerOpens, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_push_breaker_opens",
		metric.WithDescription("Times a tenant's circuit breaker opened."), metric.WithUnit("{opens}"))
	errs = errors.Join(errs, err)
	t.LagBytes, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_push_lag_bytes",
		metric.WithDescription("Unpushed bytes, for the largest telemetry.top_tenants tenants."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.LagRecords, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_push_lag_records",
		metric.WithDescription("Unpushed records, for the largest telemetry.top_tenants tenants."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.LagAge, err = m.Float64ObservableGauge("otelcol_logx_tenantbuffer_push_lag_age",
		metric.WithDescription("Age of the oldest unpushed record, for the largest telemetry.top_tenants tenants."), metric.WithUnit("s"))
	errs = errors.Join(errs, err)
	t.PushTenants, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_push_tenants",
		metric.WithDescription("Tenants with a push job, by the state of their destination: ok, retrying, breaker_open."), metric.WithUnit("{tenants}"))
	errs = errors.Join(errs, err)
	t.PushTenantState, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_push_tenant_state",
		metric.WithDescription("1 for each tenant whose destination is retrying or has its breaker open (open breakers first, then the longest failing; at most telemetry.top_tenants)."), metric.WithUnit("1"))
	errs = errors.Join(errs, err)
	t.PushDeadLetterBytes, err = m.Int64ObservableGauge("otelcol_logx_tenantbuffer_push_dead_letter_bytes",
		metric.WithDescription("Bytes held in the dead-letter area (bounded by push.dead_letter.max_bytes)."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.PushDeadLetterRemovedBytes, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_push_dead_letter_removed_bytes",
		metric.WithDescription("Bytes of dead letters removed, by reason (total_bytes, tenant_bytes, expired, too_large)."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.PushDeadLetterRemovedRecords, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_push_dead_letter_removed_records",
		metric.WithDescription("Records of dead letters removed, by reason (total_bytes, tenant_bytes, expired, too_large)."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.PushPacedSeconds, err = m.Float64ObservableCounter("otelcol_logx_tenantbuffer_push_paced_seconds",
		metric.WithDescription("Time a tenant's pushes waited for its job's pace (cause pace) or its destination's Retry-After, capped (cause retry_after); the telemetry.top_tenants tenants that waited longest."), metric.WithUnit("s"))
	errs = errors.Join(errs, err)
	t.PushPacedWaits, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_push_paced_waits",
		metric.WithDescription("Times a tenant's push waited, by cause (pace, retry_after: a Retry-After honoured); the tenants of push_paced_seconds."), metric.WithUnit("{waits}"))
	errs = errors.Join(errs, err)
	t.PushRetryAfter, err = m.Int64ObservableCounter("otelcol_logx_tenantbuffer_push_retry_after",
		metric.WithDescription("Retry-After headers of 429 and 503 responses, by outcome: honoured, capped (waited the cap), ignored (negative, fractional or garbage)."), metric.WithUnit("{responses}"))
	errs = errors.Join(errs, err)
	return t, errs
}
