package kafkatopicsreceiver

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// commitTimeout bounds the commit after the last poll, at shutdown.
const commitTimeout = 10 * time.Second

var (
	attrTopic     = attribute.Key("topic")
	attrPartition = attribute.Key("partition")
	attrReason    = attribute.Key("reason")
)

// run polls until the receiver stops. Each poll's records go to the
// pipeline partition by partition, each partition's in offset order; the
// offset of what the pipeline accepted is committed before the next
// partition (and before any rebalance: see BlockRebalanceOnPoll in
// clientOptions).
func (r *kafkaReceiver) run(ctx context.Context) {
	defer close(r.done)
	for {
		fetches := r.client.PollRecords(ctx, r.cfg.Fetch.MaxPollRecords)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			r.client.AllowRebalance()
			return
		}
		r.countErrors(fetches)
		stopped := r.deliverPoll(ctx, fetches)
		r.client.AllowRebalance()
		if stopped {
			return
		}
	}
}

// deliverPoll offers each partition's records of the poll to the pipeline,
// committing each partition's offset as soon as its records were accepted
// (a member that dies mid-poll leaves only the partition it was at
// uncommitted); stopped when the receiver stopped while a batch was still
// refused.
func (r *kafkaReceiver) deliverPoll(ctx context.Context, fetches kgo.Fetches) (stopped bool) {
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if stopped || len(p.Records) == 0 {
			return
		}
		last := p.Records[len(p.Records)-1]
		r.noteLag(p.Topic, p.Partition, p.HighWatermark-(last.Offset+1))
		if err := r.deliver(ctx, p.Records); err != nil {
			stopped = true
			return
		}
		r.commit(ctx, last)
	})
	return stopped
}

// deliver decodes records into one batch and offers it until the pipeline
// takes it. A refused batch is offered again after a back-off, for as long
// as it takes: a partition's records are never skipped, and the ones after
// them wait (the partition's order is kept). A permanent refusal (the
// pipeline says retrying cannot help) is counted as dropped.
func (r *kafkaReceiver) deliver(ctx context.Context, recs []*kgo.Record) error {
	r.tel.LogxKafkatopicsReceiverRecords.Add(ctx, int64(len(recs)))
	for _, rec := range recs {
		if reason := r.dec.add(rec); reason != "" {
			r.tel.LogxKafkatopicsReceiverDropped.Add(ctx, 1, metric.WithAttributes(attrReason.String(reason)))
		}
	}
	logs := r.dec.take()
	n := logs.LogRecordCount()
	if n == 0 {
		return nil
	}
	backoff := r.cfg.Retry.InitialBackoff
	var wait *time.Timer
	for {
		octx := r.obs.StartLogsOp(ctx)
		err := r.next.ConsumeLogs(octx, logs)
		r.obs.EndLogsOp(octx, "kafka", n, err)
		switch {
		case err == nil:
			return nil
		case consumererror.IsPermanent(err):
			r.tel.LogxKafkatopicsReceiverDropped.Add(ctx, int64(n), metric.WithAttributes(attrReason.String("refused")))
			r.set.Logger.Warn("pipeline refused Kafka records for good; dropped", zap.Int("records", n), zap.Error(err))
			return nil
		}
		r.tel.LogxKafkatopicsReceiverRefusals.Add(ctx, 1)
		if wait == nil {
			wait = time.NewTimer(backoff)
		} else {
			wait.Reset(backoff)
		}
		select {
		case <-wait.C:
		case <-ctx.Done():
			wait.Stop()
			return errStopped
		}
		backoff = min(2*backoff, r.cfg.Retry.MaxBackoff)
	}
}

// commit commits the offset after last, the last record of its partition
// the pipeline accepted. It runs even after the receiver began to stop:
// what the pipeline took must not be delivered again by the next owner.
func (r *kafkaReceiver) commit(ctx context.Context, last *kgo.Record) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := r.client.CommitRecords(cctx, last); err != nil {
		r.tel.LogxKafkatopicsReceiverCommitErrors.Add(ctx, 1)
		r.set.Logger.Warn("committing Kafka offsets failed; those records will be delivered again", zap.Error(err))
	}
}

// countErrors counts and logs what the poll's fetches failed with (a topic
// or partition the cluster refuses, an offset out of range, ...). A broker
// that cannot be reached is retried by franz-go and never shows here: see
// brokerErrors, and franz-go's own warnings in the log.
func (r *kafkaReceiver) countErrors(fetches kgo.Fetches) {
	fetches.EachError(func(topic string, partition int32, err error) {
		reason := "other"
		var ke *kerr.Error
		switch {
		case errors.As(err, &ke):
			reason = ke.Message
		case errors.Is(err, context.DeadlineExceeded):
			reason = "timeout"
		}
		r.tel.LogxKafkatopicsReceiverFetchErrors.Add(context.Background(), 1, metric.WithAttributes(attrReason.String(reason)))
		r.set.Logger.Warn("Kafka fetch failed", zap.String("topic", topic), zap.Int32("partition", partition), zap.Error(err))
	})
}

func (r *kafkaReceiver) noteLag(topic string, partition int32, lag int64) {
	r.mu.Lock()
	r.lag[topicPartition{topic, partition}] = max(lag, 0)
	r.mu.Unlock()
}
