package metadata

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Metric names, for tests and alert rules.
const (
	MetricDroppedRecords    = "otelcol_logx_fanout_dropped_records"
	MetricBackloggedRecords = "otelcol_logx_fanout_backlogged_records"
	MetricBacklogDelivered  = "otelcol_logx_fanout_backlog_delivered_records"
	MetricRetries           = "otelcol_logx_fanout_retries"
	MetricBacklogBytes      = "otelcol_logx_fanout_backlog_bytes"
	MetricBacklogBatches    = "otelcol_logx_fanout_backlog_batches"
)

// Telemetry holds the connector's own instruments. Every one has the
// attributes connector (the connector's ID) and destination (a pipeline ID).
type Telemetry struct {
	// DroppedRecords counts records a destination will never get, by
	// reason.
	DroppedRecords metric.Int64Counter
	// BackloggedRecords counts records put in a destination's backlog:
	// refused by it (or arriving while it had a backlog) after another
	// destination took them.
	BackloggedRecords metric.Int64Counter
	// BacklogDelivered counts records a destination took from its backlog.
	BacklogDelivered metric.Int64Counter
	// Retries counts backlog deliveries a destination refused (retryably).
	Retries metric.Int64Counter

	backlogBytes   metric.Int64ObservableGauge
	backlogBatches metric.Int64ObservableGauge
	meter          metric.Meter
}

// NewTelemetry makes the instruments from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	t := &Telemetry{meter: m}
	var errs, err error
	t.DroppedRecords, err = m.Int64Counter(MetricDroppedRecords,
		metric.WithDescription("Log records a destination pipeline will never get, by reason: backlog_full (evicted, oldest first, from a full backlog), refused (a permanent error), shutdown (still in the backlog when the drain time ran out)."),
		metric.WithUnit("{record}"))
	errs = errors.Join(errs, err)
	t.BackloggedRecords, err = m.Int64Counter(MetricBackloggedRecords,
		metric.WithDescription("Log records put in a destination's backlog because it refused them, or had a backlog already, while another destination took them."),
		metric.WithUnit("{record}"))
	errs = errors.Join(errs, err)
	t.BacklogDelivered, err = m.Int64Counter(MetricBacklogDelivered,
		metric.WithDescription("Log records a destination took from its backlog."),
		metric.WithUnit("{record}"))
	errs = errors.Join(errs, err)
	t.Retries, err = m.Int64Counter(MetricRetries,
		metric.WithDescription("Backlog deliveries a destination refused with a retryable error; each is retried after a backoff."),
		metric.WithUnit("{attempt}"))
	errs = errors.Join(errs, err)
	t.backlogBytes, err = m.Int64ObservableGauge(MetricBacklogBytes,
		metric.WithDescription("Bytes (protobuf size) of the batches in a destination's backlog."),
		metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.backlogBatches, err = m.Int64ObservableGauge(MetricBacklogBatches,
		metric.WithDescription("Batches in a destination's backlog."),
		metric.WithUnit("{batch}"))
	errs = errors.Join(errs, err)
	return t, errs
}

// BacklogObservation is what one destination's backlog holds now.
type BacklogObservation struct {
	Options metric.MeasurementOption
	Bytes   int64
	Batches int64
}

// ObserveBacklogs registers f as the source of the backlog gauges; f
// returns one observation per destination. The returned function
// unregisters it.
func (t *Telemetry) ObserveBacklogs(f func() []BacklogObservation) (func() error, error) {
	reg, err := t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for _, b := range f() {
			o.ObserveInt64(t.backlogBytes, b.Bytes, b.Options)
			o.ObserveInt64(t.backlogBatches, b.Batches, b.Options)
		}
		return nil
	}, t.backlogBytes, t.backlogBatches)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
