package metadata

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry is the exporter's own instruments; every one but Dropped
// carries the attribute `endpoint` (the endpoint's configured name).
type Telemetry struct {
	// Up is 1 while the endpoint is in use, 0 while it is down or proving
	// itself healthy again.
	Up metric.Int64Gauge
	// Sent counts lines written to the endpoint (dead-letter copies it
	// carries for others included).
	Sent metric.Int64Counter
	// Acked counts lines the endpoint acknowledged as taken (its rejected
	// lines are not among them).
	Acked metric.Int64Counter
	// Rejected counts lines the endpoint reported dropping (cfjs1 protocol
	// version 2), by `reason`: settled, never sent again.
	Rejected metric.Int64Counter
	// Dropped counts records the exporter dropped before sending them to
	// any endpoint, by `reason` (line_too_long).
	Dropped metric.Int64Counter
	// DeadLettered counts records meant for the endpoint that were sent to
	// another one as dead-letter copies (attribute `via`: the carrier).
	DeadLettered metric.Int64Counter
	// Transitions counts state changes, by `reason` (connect_failed,
	// write_failed, ack_timeout, connection_lost, protocol_error,
	// recovered).
	Transitions metric.Int64Counter
	// DegradedSeconds is the time the endpoint has spent down so far, the
	// current outage included (observed: see RegisterDegraded).
	DegradedSeconds metric.Float64ObservableCounter

	meter metric.Meter
}

// RegisterDegraded reports, at each collection, the degraded time that
// observe returns per endpoint attribute set. The registration is undone
// by the returned function.
func (t *Telemetry) RegisterDegraded(observe func(report func(seconds float64, attrs attribute.Set))) (func() error, error) {
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		observe(func(seconds float64, attrs attribute.Set) {
			o.ObserveFloat64(t.DegradedSeconds, seconds, metric.WithAttributeSet(attrs))
		})
		return nil
	}, t.DegradedSeconds)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}

// NewTelemetry creates the instruments from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	var errs, err error
	t := &Telemetry{}
	counter := func(name, desc, unit string) metric.Int64Counter {
		var c metric.Int64Counter
		c, err = m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = errors.Join(errs, err)
		return c
	}
	t.Sent = counter("otelcol_logx_cfjs1_exporter_sent", "Lines written to the endpoint.", "{line}")
	t.Acked = counter("otelcol_logx_cfjs1_exporter_acked", "Lines the endpoint acknowledged as taken.", "{line}")
	t.Rejected = counter("otelcol_logx_cfjs1_exporter_rejected", "Lines the endpoint reported dropping, by reason.", "{line}")
	t.Dropped = counter("otelcol_logx_cfjs1_exporter_dropped", "Records dropped before sending, by reason.", "{record}")
	t.DeadLettered = counter("otelcol_logx_cfjs1_exporter_dead_lettered", "Records meant for the endpoint sent elsewhere as dead-letter copies.", "{record}")
	t.Transitions = counter("otelcol_logx_cfjs1_exporter_transitions", "Endpoint state changes, by reason.", "{transition}")
	t.Up, err = m.Int64Gauge("otelcol_logx_cfjs1_exporter_up", metric.WithDescription("1 while the endpoint is in use, else 0."))
	errs = errors.Join(errs, err)
	t.DegradedSeconds, err = m.Float64ObservableCounter("otelcol_logx_cfjs1_exporter_degraded_seconds", metric.WithDescription("Time the endpoint spent down, the current outage included."), metric.WithUnit("s"))
	t.meter = m
	errs = errors.Join(errs, err)
	return t, errs
}
