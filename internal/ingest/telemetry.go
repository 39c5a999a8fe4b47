package ingest

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ReaderTelemetry is what every line-reading receiver counts: records the
// Stage dropped, and messages the framing truncated or found malformed.
// The instruments are named otelcol_logx_<component>_<what>, so each
// receiver keeps its own metric names.
type ReaderTelemetry struct {
	dropped   metric.Int64Counter
	truncated metric.Int64Counter
	malformed metric.Int64Counter
}

// NewReaderTelemetry makes the instruments on the receiver's meter.
func NewReaderTelemetry(meter metric.Meter, component string) (*ReaderTelemetry, error) {
	prefix := "otelcol_logx_" + component + "_"
	var t ReaderTelemetry
	var err error
	if t.dropped, err = meter.Int64Counter(prefix+"dropped_records",
		metric.WithDescription("Log records dropped, by reason (buffer_full, refused, shutdown)."),
		metric.WithUnit("{record}")); err != nil {
		return nil, err
	}
	if t.truncated, err = meter.Int64Counter(prefix+"truncated_messages",
		metric.WithDescription("Messages longer than max_message_size, truncated to it (still delivered)."),
		metric.WithUnit("{message}")); err != nil {
		return nil, err
	}
	if t.malformed, err = meter.Int64Counter(prefix+"malformed_messages",
		metric.WithDescription("Messages not valid for the format or framing, by reason; kept with the whole line as body."),
		metric.WithUnit("{message}")); err != nil {
		return nil, err
	}
	return &t, nil
}

// Dropped counts dropped records (the Stage's OnDrop).
func (t *ReaderTelemetry) Dropped(reason string, n int) {
	t.dropped.Add(context.Background(), int64(n), metric.WithAttributes(attribute.String("reason", reason)))
}

// Truncated counts a message cut to the maximum size.
func (t *ReaderTelemetry) Truncated() { t.truncated.Add(context.Background(), 1) }

// Malformed counts a malformed message (Lines' OnParseError).
func (t *ReaderTelemetry) Malformed(reason string) {
	t.malformed.Add(context.Background(), 1, metric.WithAttributes(attribute.String("reason", reason)))
}
