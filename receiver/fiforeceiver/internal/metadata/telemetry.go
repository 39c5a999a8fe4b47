package metadata

import (
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
)

// NewTelemetry makes the receiver's counters (otelcol_logx_fifo_*), each
// drop counter with a "reason" attribute.
func NewTelemetry(set component.TelemetrySettings) (*ingest.ReaderTelemetry, error) {
	return ingest.NewReaderTelemetry(set.MeterProvider.Meter(ScopeName), "fifo")
}
