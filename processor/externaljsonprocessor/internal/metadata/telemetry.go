package metadata

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry holds the processor's own instruments.
type Telemetry struct {
	// FetchSuccesses counts fetches whose values were accepted (or confirmed
	// unchanged by a 304), by source.
	FetchSuccesses metric.Int64Counter
	// FetchFailures counts fetches that were refused or failed, by source and
	// reason; the last good values stay in use.
	FetchFailures metric.Int64Counter
	// FieldsSkipped counts attributes of accepted responses that were left
	// out, by source and reason (reserved: a name other components key on).
	FieldsSkipped metric.Int64Counter
	// ValuesAge is the age in seconds of each source's current values.
	ValuesAge metric.Float64ObservableGauge
}

// NewTelemetry creates the instruments from the component's meter provider.
// ageCallback reports ValuesAge when the meter collects.
func NewTelemetry(set component.TelemetrySettings, ageCallback func(observe func(source string, seconds float64))) (*Telemetry, metric.Registration, error) {
	meter := set.MeterProvider.Meter(ScopeName)
	t := &Telemetry{}
	var err error
	if t.FetchSuccesses, err = meter.Int64Counter("otelcol_logx_externaljson_fetch_successes",
		metric.WithDescription("Fetches whose values were accepted or confirmed unchanged (HTTP 304), by source."),
		metric.WithUnit("{fetch}")); err != nil {
		return nil, nil, err
	}
	if t.FetchFailures, err = meter.Int64Counter("otelcol_logx_externaljson_fetch_failures",
		metric.WithDescription("Fetches that failed or whose response was refused, by source and reason; the last good values stay in use."),
		metric.WithUnit("{fetch}")); err != nil {
		return nil, nil, err
	}
	if t.FieldsSkipped, err = meter.Int64Counter("otelcol_logx_externaljson_fields_skipped",
		metric.WithDescription("Attributes of accepted responses that were left out, by source and reason (reserved: a name other components key on, not in mapping.allow_reserved)."),
		metric.WithUnit("{field}")); err != nil {
		return nil, nil, err
	}
	if t.ValuesAge, err = meter.Float64ObservableGauge("otelcol_logx_externaljson_values_age",
		metric.WithDescription("Age of each source's current values (time since the last successful fetch), by source."),
		metric.WithUnit("s")); err != nil {
		return nil, nil, err
	}
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		ageCallback(func(source string, seconds float64) {
			o.ObserveFloat64(t.ValuesAge, seconds, metric.WithAttributes(SourceAttr(source)))
		})
		return nil
	}, t.ValuesAge)
	if err != nil {
		return nil, nil, err
	}
	return t, reg, nil
}
