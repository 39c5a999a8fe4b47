package metadata

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry holds the receiver's own counters. Every drop counter has a
// "reason" attribute.
type Telemetry struct {
	DroppedRecords      metric.Int64Counter
	TruncatedMessages   metric.Int64Counter
	MalformedMessages   metric.Int64Counter
	RejectedConnections metric.Int64Counter
}

// NewTelemetry makes the instruments from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	var t Telemetry
	var err error
	if t.DroppedRecords, err = m.Int64Counter("otelcol_logx_unixsocket_dropped_records",
		metric.WithDescription("Log records dropped, by reason (buffer_full, refused, shutdown)."),
		metric.WithUnit("{record}")); err != nil {
		return nil, err
	}
	if t.TruncatedMessages, err = m.Int64Counter("otelcol_logx_unixsocket_truncated_messages",
		metric.WithDescription("Messages longer than max_message_size, truncated to it (still delivered)."),
		metric.WithUnit("{message}")); err != nil {
		return nil, err
	}
	if t.MalformedMessages, err = m.Int64Counter("otelcol_logx_unixsocket_malformed_messages",
		metric.WithDescription("Messages not valid for the format or framing, by reason; kept with the whole line as body."),
		metric.WithUnit("{message}")); err != nil {
		return nil, err
	}
	if t.RejectedConnections, err = m.Int64Counter("otelcol_logx_unixsocket_rejected_connections",
		metric.WithDescription("Stream connections closed at once, by reason (max_connections)."),
		metric.WithUnit("{connection}")); err != nil {
		return nil, err
	}
	return &t, nil
}

// Dropped counts dropped records.
func (t *Telemetry) Dropped(reason string, n int) {
	t.DroppedRecords.Add(context.Background(), int64(n), metric.WithAttributes(attribute.String("reason", reason)))
}

// Malformed counts a malformed message.
func (t *Telemetry) Malformed(reason string) {
	t.MalformedMessages.Add(context.Background(), 1, metric.WithAttributes(attribute.String("reason", reason)))
}
