package metadata

import (
	"context"
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
	// (read from the network, not yet a whole line). Observed when
	// metrics are collected, not updated on every read: a sender writing
	// a byte at a time must not cost a metric update per byte.
	BufferedBytes metric.Int64ObservableGauge
	// BufferReservedBytes is the part of max_buffered_bytes connections
	// reading long lines have reserved.
	BufferReservedBytes metric.Int64ObservableGauge

	meter metric.Meter
	// BufferWaits counts the times a connection stopped reading until
	// max_buffered_bytes had room for its line.
	BufferWaits metric.Int64Counter
}

// NewTelemetry creates the instruments from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	var errs, err error
	t := &Telemetry{meter: m}
	counter := func(name, desc, unit string) metric.Int64Counter {
		var c metric.Int64Counter
		c, err = m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = errors.Join(errs, err)
		return c
	}
	gauge := func(name, desc, unit string) metric.Int64ObservableGauge {
		var g metric.Int64ObservableGauge
		g, err = m.Int64ObservableGauge(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = errors.Join(errs, err)
		return g
	}
	t.Lines = counter("otelcol_logx_cfjs1_receiver_lines", "cfjs1 data lines read.", "{line}")
	t.Dropped = counter("otelcol_logx_cfjs1_receiver_dropped", "cfjs1 lines dropped, by reason.", "{line}")
	t.ConnectionsRejected = counter("otelcol_logx_cfjs1_receiver_connections_rejected", "Connections closed at once, by reason.", "{connection}")
	t.ConnectionsClosed = counter("otelcol_logx_cfjs1_receiver_connections_closed", "Connections closed on a time limit, by reason.", "{connection}")
	t.AcceptErrors = counter("otelcol_logx_cfjs1_receiver_accept_errors", "Failed accepts, by reason.", "{error}")
	t.BufferWaits = counter("otelcol_logx_cfjs1_receiver_buffer_waits", "Times a connection paused reading for max_buffered_bytes.", "{wait}")
	t.Connections, err = m.Int64UpDownCounter("otelcol_logx_cfjs1_receiver_connections", metric.WithDescription("Open connections."), metric.WithUnit("{connection}"))
	errs = errors.Join(errs, err)
	t.BufferedBytes = gauge("otelcol_logx_cfjs1_receiver_buffered_bytes", "Bytes of unfinished lines held by connections.", "By")
	t.BufferReservedBytes = gauge("otelcol_logx_cfjs1_receiver_buffer_reserved_bytes", "Part of max_buffered_bytes reserved by connections reading long lines.", "By")
	return t, errs
}

// ObserveBuffers makes the buffer gauges report what buffered and reserved
// return; the registration ends with the receiver (Unregister).
func (t *Telemetry) ObserveBuffers(buffered, reserved func() int64) (metric.Registration, error) {
	return t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(t.BufferedBytes, buffered())
		o.ObserveInt64(t.BufferReservedBytes, reserved())
		return nil
	}, t.BufferedBytes, t.BufferReservedBytes)
}
