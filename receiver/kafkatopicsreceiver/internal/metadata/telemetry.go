package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Telemetry is the receiver's own instruments, beyond the accepted/refused
// counts that receiverhelper.ObsReport records.
type Telemetry struct {
	Meter metric.Meter
	// Records counts Kafka records taken from polls, decoded or not.
	Records metric.Int64Counter
	// Dropped counts records that could not be decoded, by reason (the
	// cfjs1 decoder's reasons, otlp_decode_error, empty): they are
	// committed, never retried, and never reach the pipeline.
	Dropped metric.Int64Counter
	// Refusals counts the pipeline refusing a partition's batch; the batch
	// is offered again after a back-off, never skipped.
	Refusals metric.Int64Counter
	// CommitErrors counts offset commits that failed (the records are
	// then delivered again, by this member or the next owner).
	CommitErrors metric.Int64Counter
	// FetchErrors counts errors fetches returned, by reason.
	FetchErrors metric.Int64Counter
	// BrokerErrors counts failed broker connections and requests, by
	// reason (connect, read, write); franz-go retries them by itself.
	BrokerErrors metric.Int64Counter
	// Lag is, per assigned partition, the records behind its high
	// watermark as of the last poll.
	Lag metric.Int64ObservableGauge
	// Partitions is the partitions assigned to this member.
	Partitions metric.Int64ObservableGauge
}

// NewTelemetry creates the instruments from the component's meter provider.
func NewTelemetry(set component.TelemetrySettings) (*Telemetry, error) {
	m := set.MeterProvider.Meter(ScopeName)
	t := &Telemetry{Meter: m}
	var errs, err error
	counter := func(name, desc, unit string) metric.Int64Counter {
		var c metric.Int64Counter
		c, err = m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = errors.Join(errs, err)
		return c
	}
	t.Records = counter("otelcol_logx_kafkatopics_receiver_records", "Kafka records polled, decoded or not.", "{record}")
	t.Dropped = counter("otelcol_logx_kafkatopics_receiver_dropped", "Kafka records dropped as undecodable, by reason.", "{record}")
	t.Refusals = counter("otelcol_logx_kafkatopics_receiver_refusals", "Batches the pipeline refused; each is offered again.", "{batch}")
	t.CommitErrors = counter("otelcol_logx_kafkatopics_receiver_commit_errors", "Offset commits that failed.", "{commit}")
	t.FetchErrors = counter("otelcol_logx_kafkatopics_receiver_fetch_errors", "Errors returned by fetches, by reason.", "{error}")
	t.BrokerErrors = counter("otelcol_logx_kafkatopics_receiver_broker_errors", "Failed broker connections and requests, by reason (connect, read, write).", "{error}")
	t.Lag, err = m.Int64ObservableGauge("otelcol_logx_kafkatopics_receiver_lag",
		metric.WithDescription("Records behind the high watermark, per assigned partition."), metric.WithUnit("{record}"))
	errs = errors.Join(errs, err)
	t.Partitions, err = m.Int64ObservableGauge("otelcol_logx_kafkatopics_receiver_partitions",
		metric.WithDescription("Partitions assigned to this member of the consumer group."), metric.WithUnit("{partition}"))
	errs = errors.Join(errs, err)
	return t, errs
}
