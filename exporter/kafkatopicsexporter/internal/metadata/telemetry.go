package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry holds the exporter's own metric instruments.
type Telemetry struct {
	// RecordsProduced counts records the broker acknowledged, by class
	// (data, dead_letter, fallback): which kind of topic they went to.
	RecordsProduced metric.Int64Counter
	// RecordsDropped counts records given up for good, by reason
	// (too_large, rejected_too_large, rejected_invalid, encode_error,
	// not_allowed, unknown_topic).
	RecordsDropped metric.Int64Counter
	// RecordsRetried counts records that failed with a retriable error and
	// were handed back to the exporter's retry and queue.
	RecordsRetried metric.Int64Counter
	// RecordsRedirected counts records acknowledged in the fallback topic,
	// by why they went there (unroutable, not_allowed, unknown_topic).
	RecordsRedirected metric.Int64Counter
}

// NewTelemetry makes the instruments from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	t := &Telemetry{}
	var errs, err error
	t.RecordsProduced, err = m.Int64Counter("otelcol_logx_kafkatopics_records_produced",
		metric.WithDescription("Log records acknowledged by Kafka, by class of topic (data, dead_letter, fallback)."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsDropped, err = m.Int64Counter("otelcol_logx_kafkatopics_records_dropped",
		metric.WithDescription("Log records dropped and never retried, by reason (too_large, rejected_too_large, rejected_invalid, encode_error, not_allowed, unknown_topic)."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsRetried, err = m.Int64Counter("otelcol_logx_kafkatopics_records_retried",
		metric.WithDescription("Log records that failed with a retriable error and went back to the retry/queue."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsRedirected, err = m.Int64Counter("otelcol_logx_kafkatopics_records_redirected",
		metric.WithDescription("Log records acknowledged in the fallback topic instead of their own, by reason (unroutable, not_allowed, unknown_topic)."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	return t, errs
}
