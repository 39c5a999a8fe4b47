package metadata

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
)

// Telemetry holds the receiver's own counters (otelcol_logx_unixsocket_*):
// those of every line reader, and the connections it turned away or
// closed. Every counter of connections has a "reason" attribute.
type Telemetry struct {
	*ingest.ReaderTelemetry
	rejectedConnections metric.Int64Counter
	closedConnections   metric.Int64Counter
}

// NewTelemetry makes the instruments from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	reader, err := ingest.NewReaderTelemetry(m, "unixsocket")
	if err != nil {
		return nil, err
	}
	t := Telemetry{ReaderTelemetry: reader}
	if t.rejectedConnections, err = m.Int64Counter("otelcol_logx_unixsocket_rejected_connections",
		metric.WithDescription("Stream connections closed at once, by reason (max_connections, max_connections_per_uid)."),
		metric.WithUnit("{connection}")); err != nil {
		return nil, err
	}
	if t.closedConnections, err = m.Int64Counter("otelcol_logx_unixsocket_closed_connections",
		metric.WithDescription("Stream connections the receiver closed while they were open, by reason (idle_timeout)."),
		metric.WithUnit("{connection}")); err != nil {
		return nil, err
	}
	return &t, nil
}

// Rejected counts a connection closed at once, for reason.
func (t *Telemetry) Rejected(reason string) {
	t.rejectedConnections.Add(context.Background(), 1, metric.WithAttributes(attribute.String("reason", reason)))
}

// Closed counts an open connection the receiver closed, for reason.
func (t *Telemetry) Closed(reason string) {
	t.closedConnections.Add(context.Background(), 1, metric.WithAttributes(attribute.String("reason", reason)))
}
