package metadata

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
)

// Telemetry holds the receiver's own counters (otelcol_logx_unixsocket_*):
// those of every line reader, and the connections it turned away. Every
// drop counter has a "reason" attribute.
type Telemetry struct {
	*ingest.ReaderTelemetry
	RejectedConnections metric.Int64Counter
}

// NewTelemetry makes the instruments from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	reader, err := ingest.NewReaderTelemetry(m, "unixsocket")
	if err != nil {
		return nil, err
	}
	t := Telemetry{ReaderTelemetry: reader}
	if t.RejectedConnections, err = m.Int64Counter("otelcol_logx_unixsocket_rejected_connections",
		metric.WithDescription("Stream connections closed at once, by reason (max_connections)."),
		metric.WithUnit("{connection}")); err != nil {
		return nil, err
	}
	return &t, nil
}
