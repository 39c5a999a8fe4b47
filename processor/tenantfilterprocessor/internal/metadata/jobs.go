package metadata

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/metric"
)

// Metric names, for tests and alert rules (the generated instruments
// carry the same names).
const (
	MetricRecordsDropped    = "otelcol_logx_tenantfilter_records_dropped"
	MetricJobReloadsRefused = "otelcol_logx_tenantfilter_job_reloads_refused"
	MetricJobs              = "otelcol_logx_tenantfilter_jobs"
	MetricLastReloadSuccess = "otelcol_logx_tenantfilter_last_reload_success"
	MetricJobConfigLoaded   = "otelcol_logx_tenantfilter_job_config_loaded"
)

// JobState is what the gauges report about the job set in force.
type JobState struct {
	Jobs              int64 // jobs in force
	LastReloadSuccess bool  // the last reload was accepted
	Loaded            bool  // a good document is in force (else nothing is admitted)
}

// ObserveJobs reports state on the three job gauges through the generated
// callbacks (one state, three gauges); the returned function unregisters
// them.
func (t *TelemetryBuilder) ObserveJobs(state func() JobState) (func() error, error) {
	err := errors.Join(
		t.RegisterLogxTenantfilterJobsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(state().Jobs)
			return nil
		}),
		t.RegisterLogxTenantfilterLastReloadSuccessCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(boolGauge(state().LastReloadSuccess))
			return nil
		}),
		t.RegisterLogxTenantfilterJobConfigLoadedCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(boolGauge(state().Loaded))
			return nil
		}))
	unregister := func() error { t.Shutdown(); return nil }
	if err != nil {
		return nil, errors.Join(err, unregister())
	}
	return unregister, nil
}

func boolGauge(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
