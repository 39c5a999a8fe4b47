package kafkatopicsreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-logx/otelcol-logx/receiver/kafkatopicsreceiver/internal/metadata"
)

type kafkaReceiver struct {
	cfg  *Config
	set  receiver.Settings
	next consumer.Logs
	obs  *receiverhelper.ObsReport
	tel  *metadata.TelemetryBuilder
	dec  valueDecoder

	client *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
	reg    metric.Registration

	mu  sync.Mutex
	lag map[topicPartition]int64 // per assigned partition, as of the last poll
}

type topicPartition struct {
	topic     string
	partition int32
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*kafkaReceiver, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: set.ID, Transport: "kafka", ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &kafkaReceiver{
		cfg: cfg, set: set, next: next, obs: obs, tel: tel,
		dec: newValueDecoder(cfg),
		lag: map[topicPartition]int64{},
	}, nil
}

func (r *kafkaReceiver) Start(ctx context.Context, _ component.Host) error {
	opts, err := r.clientOptions(ctx)
	if err != nil {
		return fmt.Errorf("kafkatopics receiver: %w", err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafkatopics receiver: %w", err)
	}
	r.client = cl
	r.reg, err = r.tel.RegisterCallback(r.observe, r.tel.LogxKafkatopicsReceiverLag, r.tel.LogxKafkatopicsReceiverPartitions)
	if err != nil {
		cl.Close()
		return err
	}
	// The poll loop outlives Start's context: it runs until Shutdown.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel, r.done = cancel, make(chan struct{})
	go r.run(runCtx)
	return nil
}

// Shutdown stops polling, lets the batch being offered go (it was not
// accepted, so its offsets are not committed: the group delivers it
// again), then leaves the group so its partitions move at once.
func (r *kafkaReceiver) Shutdown(context.Context) error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	<-r.done
	r.client.Close()
	var err error
	if r.reg != nil {
		err = r.reg.Unregister()
	}
	return err
}

// clientOptions are the cluster's options and the consumer group's.
func (r *kafkaReceiver) clientOptions(ctx context.Context) ([]kgo.Opt, error) {
	opts, err := r.cfg.ClientOptions(ctx, r.set.Logger)
	if err != nil {
		return nil, err
	}
	g, f := r.cfg.Group, r.cfg.Fetch
	start := kgo.NewOffset().AtStart()
	if g.InitialOffset == OffsetLatest {
		start = kgo.NewOffset().AtEnd()
	}
	opts = append(opts,
		kgo.ConsumerGroup(g.ID),
		kgo.ConsumeTopics(r.cfg.Topics...),
		// Partitions move one at a time, and a member keeps what it
		// had: a rebalance does not stop the whole group.
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.SessionTimeout(g.SessionTimeout),
		kgo.RebalanceTimeout(g.RebalanceTimeout),
		kgo.HeartbeatInterval(g.HeartbeatInterval),
		kgo.ConsumeResetOffset(start),
		// Offsets are committed here, after the pipeline accepted the
		// records; and no rebalance happens between a poll and its
		// commit, so a member only ever commits partitions it owns.
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(r.assigned),
		kgo.OnPartitionsRevoked(r.forget),
		kgo.OnPartitionsLost(r.forget),
		kgo.WithHooks(brokerErrors{r}),
		kgo.FetchMaxBytes(f.MaxBytes),
		kgo.FetchMaxPartitionBytes(f.MaxPartitionBytes),
	)
	if r.cfg.TopicsRegex {
		opts = append(opts, kgo.ConsumeRegex())
	}
	return opts, nil
}

// assigned starts the lag of new partitions at 0 until their first poll.
func (r *kafkaReceiver) assigned(_ context.Context, _ *kgo.Client, got map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for topic, parts := range got {
		for _, p := range parts {
			if _, ok := r.lag[topicPartition{topic, p}]; !ok {
				r.lag[topicPartition{topic, p}] = 0
			}
		}
	}
}

// forget drops the lag of partitions this member no longer has.
func (r *kafkaReceiver) forget(_ context.Context, _ *kgo.Client, gone map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for topic, parts := range gone {
		for _, p := range parts {
			delete(r.lag, topicPartition{topic, p})
		}
	}
}

func (r *kafkaReceiver) observe(_ context.Context, o metric.Observer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for tp, lag := range r.lag {
		o.ObserveInt64(r.tel.LogxKafkatopicsReceiverLag, lag, metric.WithAttributes(attrTopic.String(tp.topic), attrPartition.Int(int(tp.partition))))
	}
	o.ObserveInt64(r.tel.LogxKafkatopicsReceiverPartitions, int64(len(r.lag)))
	return nil
}

// errStopped ends offering a batch when the receiver stops.
var errStopped = errors.New("kafkatopics receiver stopped")
