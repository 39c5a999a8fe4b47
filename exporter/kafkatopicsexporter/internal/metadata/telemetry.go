package metadata

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry holds the exporter's own metric instruments.
type Telemetry struct {
	// RecordsProduced counts records the broker acknowledged, by class
	// (data, dead_letter, fallback): which kind of topic they went to.
	meter metric.Meter

	RecordsProduced metric.Int64Counter
	// RecordsDropped counts records given up for good, by reason
	// (too_large, rejected_too_large, rejected_invalid, encode_error,
	// not_allowed, unknown_topic, shutdown).
	RecordsDropped metric.Int64Counter
	// RecordsRetried counts records that failed with a retriable error and
	// were handed back to the exporter's retry and queue.
	RecordsRetried metric.Int64Counter
	// RecordsRedirected counts records acknowledged in the fallback topic,
	// by why they went there (unroutable, not_allowed, unknown_topic), and
	// records produced to another partition of their topic because their
	// own has a backlog (partition_failing).
	RecordsRedirected metric.Int64Counter
	// RecordsBacklogged counts records an export call left to a partition
	// backlog: acknowledged upstream, produced later, in order.
	RecordsBacklogged metric.Int64Counter
	// RecordsResent counts records a backlog produced again after a failed
	// attempt (a duplicate in Kafka is possible when the failure was a
	// lost answer).
	RecordsResent metric.Int64Counter
	// BacklogRecords and BacklogBytes are what each partition backlog holds,
	// by topic and partition (only partitions that have a backlog).
	BacklogRecords metric.Int64ObservableGauge
	BacklogBytes   metric.Int64ObservableGauge
}

// RegisterBacklogCallback reports the backlog gauges from observe until the
// returned registration is unregistered.
func (t *Telemetry) RegisterBacklogCallback(observe func(metric.Observer)) (metric.Registration, error) {
	return t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		observe(o)
		return nil
	}, t.BacklogRecords, t.BacklogBytes)
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
		metric.WithDescription("Log records dropped and never retried, by reason (too_large, rejected_too_large, rejected_invalid, encode_error, not_allowed, unknown_topic, shutdown)."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsRetried, err = m.Int64Counter("otelcol_logx_kafkatopics_records_retried",
		metric.WithDescription("Log records that failed with a retriable error and went back to the retry/queue."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsRedirected, err = m.Int64Counter("otelcol_logx_kafkatopics_records_redirected",
		metric.WithDescription("Log records acknowledged in the fallback topic instead of their own (unroutable, not_allowed, unknown_topic), or produced to another partition of their topic (partition_failing)."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsBacklogged, err = m.Int64Counter("otelcol_logx_kafkatopics_records_backlogged",
		metric.WithDescription("Log records an export call left to the backlog of a failing partition (produced later, in order)."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.RecordsResent, err = m.Int64Counter("otelcol_logx_kafkatopics_records_resent",
		metric.WithDescription("Log records a partition backlog produced again after a failed attempt."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.BacklogRecords, err = m.Int64ObservableGauge("otelcol_logx_kafkatopics_backlog_records",
		metric.WithDescription("Log records waiting in the backlog of a failing partition, by topic and partition."),
		metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	t.BacklogBytes, err = m.Int64ObservableGauge("otelcol_logx_kafkatopics_backlog_bytes",
		metric.WithDescription("Key and value bytes waiting in the backlog of a failing partition, by topic and partition."),
		metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	t.meter = m
	return t, errs
}
