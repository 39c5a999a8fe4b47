package metadata

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Metric names, for tests and alert rules.
const (
	MetricRecordsDropped    = "otelcol_logx_tenantfilter_records_dropped"
	MetricJobReloadsRefused = "otelcol_logx_tenantfilter_job_reloads_refused"
	MetricJobs              = "otelcol_logx_tenantfilter_jobs"
	MetricLastReloadSuccess = "otelcol_logx_tenantfilter_last_reload_success"
	MetricJobConfigLoaded   = "otelcol_logx_tenantfilter_job_config_loaded"
)

// Telemetry holds the processor's own metric instruments.
type Telemetry struct {
	// RecordsDropped counts records dropped, by reason: no_job (the tenant
	// has no job in force), no_job_config (no good document was ever
	// loaded, so no tenant is admitted) or missing_tenant (no tenant
	// attribute, with tenant.missing: drop).
	RecordsDropped metric.Int64Counter
	// JobReloadsRefused counts job documents refused, by reason (blank,
	// parse, invalid, removes_too_many, redirects_too_many, fetch).
	JobReloadsRefused metric.Int64Counter

	meter metric.Meter
}

// NewTelemetry makes the counters from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	t := &Telemetry{meter: m}
	var errs, err error
	t.RecordsDropped, err = m.Int64Counter(MetricRecordsDropped,
		metric.WithDescription("Log records dropped because their tenant has no push job in force, by reason (no_job, no_job_config, missing_tenant)."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.JobReloadsRefused, err = m.Int64Counter(MetricJobReloadsRefused,
		metric.WithDescription("Job documents refused (the last good job set stays in force), by reason."),
		metric.WithUnit("{reloads}"))
	errs = errors.Join(errs, err)
	return t, errs
}

// JobState is what the gauges report about the job set in force.
type JobState struct {
	Jobs              int64 // jobs in force
	LastReloadSuccess bool  // the last reload was accepted
	Loaded            bool  // a good document is in force (else nothing is admitted)
}

// ObserveJobs registers state as the source of the job gauges. The
// returned function unregisters them.
func (t *Telemetry) ObserveJobs(state func() JobState) (func() error, error) {
	jobs, err1 := t.meter.Int64ObservableGauge(MetricJobs,
		metric.WithDescription("Push jobs in force: the tenants and prefixes whose records pass."),
		metric.WithUnit("{jobs}"))
	ok, err2 := t.meter.Int64ObservableGauge(MetricLastReloadSuccess,
		metric.WithDescription("1 when the last job document reload was accepted, 0 when it was refused (the last good job set stays in force)."),
		metric.WithUnit("1"))
	loaded, err3 := t.meter.Int64ObservableGauge(MetricJobConfigLoaded,
		metric.WithDescription("1 once a good job document is in force; 0 means none was ever loaded and no tenant's records pass."),
		metric.WithUnit("1"))
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := state()
		o.ObserveInt64(jobs, s.Jobs)
		o.ObserveInt64(ok, boolGauge(s.LastReloadSuccess))
		o.ObserveInt64(loaded, boolGauge(s.Loaded))
		return nil
	}, jobs, ok, loaded)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}

func boolGauge(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
