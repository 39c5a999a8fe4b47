package ingest

import (
	"context"
	"sync"

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

	services ServiceLabels
}

// ServiceLabels gives out the values of a "service" metric label, bounded:
// the first MaxServiceLabels services to be counted get their own, the
// rest share OtherServicesLabel. Safe for concurrent use.
type ServiceLabels struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

// Label returns the label value for service.
func (l *ServiceLabels) Label(service string) string {
	if service == "" {
		return NoServiceLabel
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[service]; ok {
		return service
	}
	if len(l.seen) >= MaxServiceLabels {
		return OtherServicesLabel
	}
	if l.seen == nil {
		l.seen = map[string]struct{}{}
	}
	l.seen[service] = struct{}{}
	return service
}

// MaxServiceLabels bounds the values of the dropped_records "service"
// label: the first services to have records dropped get their own, the
// rest share OtherServicesLabel. A flood is what drops first, so it is
// among the first; the bound keeps the series finite for ever:
// (MaxServiceLabels + 2) × reasons.
const MaxServiceLabels = 64

// Service label values beside the services' own.
const (
	// OtherServicesLabel: services beyond MaxServiceLabels.
	OtherServicesLabel = "_other"
	// NoServiceLabel: records without a service identity.
	NoServiceLabel = "_none"
)

// NewReaderTelemetry makes the instruments on the receiver's meter.
func NewReaderTelemetry(meter metric.Meter, component string) (*ReaderTelemetry, error) {
	prefix := "otelcol_logx_" + component + "_"
	var t ReaderTelemetry
	var err error
	if t.dropped, err = meter.Int64Counter(prefix+"dropped_records",
		metric.WithDescription("Log records dropped, by reason (buffer_full, fair_share, refused, shutdown) and, for a receiver that shares its buffer fairly, service."),
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

// DroppedByService counts dropped records by service and reason (the
// Stage's OnServiceDrop); the service label is bounded (MaxServiceLabels).
func (t *ReaderTelemetry) DroppedByService(service, reason string, n int) {
	t.dropped.Add(context.Background(), int64(n), metric.WithAttributes(
		attribute.String("reason", reason),
		attribute.String("service", t.services.Label(service))))
}

// Truncated counts a message cut to the maximum size.
func (t *ReaderTelemetry) Truncated() { t.truncated.Add(context.Background(), 1) }

// Malformed counts a malformed message (Lines' OnParseError).
func (t *ReaderTelemetry) Malformed(reason string) {
	t.malformed.Add(context.Background(), 1, metric.WithAttributes(attribute.String("reason", reason)))
}
