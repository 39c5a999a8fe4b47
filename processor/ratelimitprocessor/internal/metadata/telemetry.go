package metadata

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry holds the processor's own metric instruments.
type Telemetry struct {
	// RecordsDropped counts records dropped (or, in dry_run, that would have
	// been dropped), with attributes key (bounded: top keys, else "other"),
	// reason and dry_run.
	RecordsDropped metric.Int64Counter
	// RecordsExempt counts records passed unlimited because of their severity.
	RecordsExempt metric.Int64Counter
	// RecordsOverflow counts records limited by the shared overflow bucket
	// because the key table was full.
	RecordsOverflow metric.Int64Counter
	// KeysEvicted counts idle keys removed from the key table.
	KeysEvicted metric.Int64Counter
	// SummaryRecordsDropped counts summary records the next consumer refused.
	SummaryRecordsDropped metric.Int64Counter
	// Keys observes the number of keys in the key table.
	Keys metric.Int64ObservableGauge

	meter metric.Meter
}

// NewTelemetry makes the instruments from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	t := &Telemetry{meter: m}
	var errs, err error
	t.RecordsDropped, err = m.Int64Counter("otelcol_logx_ratelimit_records_dropped",
		metric.WithDescription("Log records dropped by the rate limit (in dry_run: that would have been dropped), by key, reason and dry_run."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsExempt, err = m.Int64Counter("otelcol_logx_ratelimit_records_exempt",
		metric.WithDescription("Log records passed without limit because their severity is at or above severity.threshold (mode exempt)."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsOverflow, err = m.Int64Counter("otelcol_logx_ratelimit_records_overflow",
		metric.WithDescription("Log records whose key found the key table full and shared the overflow bucket."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.KeysEvicted, err = m.Int64Counter("otelcol_logx_ratelimit_keys_evicted",
		metric.WithDescription("Idle keys removed from the key table."),
		metric.WithUnit("{keys}"))
	errs = errors.Join(errs, err)
	t.SummaryRecordsDropped, err = m.Int64Counter("otelcol_logx_ratelimit_summary_records_dropped",
		metric.WithDescription("Summary log records that could not be delivered, by reason."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	return t, errs
}

// ObserveKeys registers f as the source of the keys gauge. The returned
// function unregisters it.
func (t *Telemetry) ObserveKeys(f func() int64) (func() error, error) {
	g, err := t.meter.Int64ObservableGauge("otelcol_logx_ratelimit_keys",
		metric.WithDescription("Keys in the rate limiter's key table."),
		metric.WithUnit("{keys}"))
	if err != nil {
		return nil, err
	}
	t.Keys = g
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(g, f())
		return nil
	}, g)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
