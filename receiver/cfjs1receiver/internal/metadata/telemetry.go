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
	// Dropped counts lines given up on, by reason: line_too_long, the
	// decoder's reasons (invalid_json, not_a_record, too_many_members,
	// too_many_values, too_deep, decode_error), refused (the pipeline
	// refused them and the sender did not ask for acks, so nobody will
	// send them again).
	Dropped metric.Int64Counter
	// Connections is the number of open connections.
	Connections metric.Int64UpDownCounter
	// ConnectionsRejected counts connections closed at once, by reason
	// (max_connections, max_connections_per_peer).
	ConnectionsRejected metric.Int64Counter
	// ConnectionsClosed counts connections the receiver closed on a limit,
	// by reason (idle, slow, handshake_timeout, handshake_error).
	ConnectionsClosed metric.Int64Counter
	// AcceptErrors counts failed accepts, by reason (emfile, enfile,
	// econnaborted, enobufs, enomem, other); the listener backs off and
	// keeps accepting.
	AcceptErrors metric.Int64Counter
	// BufferedBytes is the bytes of unfinished lines connections hold
	// (read from the network, not yet a whole line).
	BufferedBytes metric.Int64UpDownCounter
	// BufferReservedBytes is the part of max_buffered_bytes connections
	// reading long lines have reserved.
	BufferReservedBytes metric.Int64UpDownCounter
	// BufferWaits counts the times a connection stopped reading until
	// max_buffered_bytes had room for its line.
	BufferWaits metric.Int64Counter
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
	upDown := func(name, desc, unit string) metric.Int64UpDownCounter {
		var c metric.Int64UpDownCounter
		c, err = m.Int64UpDownCounter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = errors.Join(errs, err)
		return c
	}
	t.Lines = counter("otelcol_logx_cfjs1_receiver_lines", "cfjs1 data lines read.", "{line}")
	t.Dropped = counter("otelcol_logx_cfjs1_receiver_dropped", "cfjs1 lines dropped, by reason.", "{line}")
	t.ConnectionsRejected = counter("otelcol_logx_cfjs1_receiver_connections_rejected", "Connections closed at once, by reason.", "{connection}")
	t.ConnectionsClosed = counter("otelcol_logx_cfjs1_receiver_connections_closed", "Connections closed on a time limit, by reason.", "{connection}")
	t.AcceptErrors = counter("otelcol_logx_cfjs1_receiver_accept_errors", "Failed accepts, by reason.", "{error}")
	t.BufferWaits = counter("otelcol_logx_cfjs1_receiver_buffer_waits", "Times a connection paused reading for max_buffered_bytes.", "{wait}")
	t.Connections = upDown("otelcol_logx_cfjs1_receiver_connections", "Open connections.", "{connection}")
	t.BufferedBytes = upDown("otelcol_logx_cfjs1_receiver_buffered_bytes", "Bytes of unfinished lines held by connections.", "By")
	t.BufferReservedBytes = upDown("otelcol_logx_cfjs1_receiver_buffer_reserved_bytes", "Part of max_buffered_bytes reserved by connections reading long lines.", "By")
	return t, errs
}
