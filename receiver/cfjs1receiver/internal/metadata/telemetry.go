package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry is the receiver's own instruments, beyond the accepted/refused
// counts that receiverhelper.ObsReport records.
type Telemetry struct {
	// Lines counts data lines read (control lines excluded).
	Lines metric.Int64Counter
	// Dropped counts lines given up on, by reason: decode_error,
	// line_too_long, refused (the pipeline refused them and the sender did
	// not ask for acks, so nobody will send them again).
	Dropped metric.Int64Counter
	// Connections is the number of open connections.
	Connections metric.Int64UpDownCounter
	// ConnectionsRejected counts connections closed at once, by reason
	// (max_connections).
	ConnectionsRejected metric.Int64Counter
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
	t.Lines = counter("otelcol_logx_cfjs1_receiver_lines", "cfjs1 data lines read.", "{line}")
	t.Dropped = counter("otelcol_logx_cfjs1_receiver_dropped", "cfjs1 lines dropped, by reason.", "{line}")
	t.ConnectionsRejected = counter("otelcol_logx_cfjs1_receiver_connections_rejected", "Connections closed at once, by reason.", "{connection}")
	t.Connections, err = m.Int64UpDownCounter("otelcol_logx_cfjs1_receiver_connections", metric.WithDescription("Open connections."), metric.WithUnit("{connection}"))
	errs = errors.Join(errs, err)
	return t, errs
}
