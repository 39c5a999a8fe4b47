package kafkatopicsexporter

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// kafkaExporter owns one franz-go client; pushLogs may run concurrently
// (one call per queue consumer) and shares nothing per call but the client.
type kafkaExporter struct {
	cfg    *Config
	logger *zap.Logger
	tel    *metadata.TelemetryBuilder
	router router
	enc    valueEncoder

	client  *kgo.Client
	batches sync.Pool // *batch, so that buffers are reused across calls
	known   knownTopics
	parts   *partitioner // the client's partitioner; nil without backlogs
	backlog *backlogs    // nil when partition_backlog is off

	id          component.ID
	telSettings component.TelemetrySettings
	guards      *guard.Registration
	gauges      metric.Registration

	stopWatch context.CancelFunc // ends watchTopics
	watchDone chan struct{}      // closed when watchTopics has returned

	// Attribute sets, made once: recording a metric must not allocate.
	produced   [numClasses]metric.AddOption
	dropped    [numReasons]metric.AddOption
	redirected [numRedirectReasons]metric.AddOption
}

func newKafkaExporter(cfg *Config, set exporter.Settings) (*kafkaExporter, error) {
	r, err := newRouter(cfg)
	if err != nil {
		return nil, err
	}
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("kafkatopics: telemetry: %w", err)
	}
	e := &kafkaExporter{cfg: cfg, logger: set.Logger, tel: tel, router: r, enc: newValueEncoder(cfg),
		id: set.ID, telSettings: set.TelemetrySettings}
	e.known.max = cfg.Topics.MaxKnown
	// With auto-creation a topic comes to exist when produced to: only the
	// allow-list bounds the topics then.
	e.known.disabled = cfg.Producer.AllowAutoTopicCreation
	for c := range numClasses {
		e.produced[c] = metric.WithAttributeSet(attribute.NewSet(attribute.String("class", topicClass(c).String())))
	}
	for d := range numReasons {
		e.dropped[d] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", dropReason(d).String())))
	}
	for r := range numRedirectReasons {
		e.redirected[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", redirectReason(r).String())))
	}
	if cfg.PartitionBacklog.Enabled {
		e.parts = newPartitioner(cfg.Partition.Mode)
		e.backlog = newBacklogs(cfg.PartitionBacklog, e)
	}
	e.batches.New = func() any { return newBatch(e.backlog) }
	return e, nil
}

func (e *kafkaExporter) start(ctx context.Context, _ component.Host) error {
	var parts kgo.Partitioner // a nil *partitioner would not be a nil interface
	if e.parts != nil {
		parts = e.parts
	}
	opts, err := clientOptions(ctx, e.cfg, e.logger, parts)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafkatopics: client: %w", err)
	}
	e.client = cl
	if err := e.startBacklogs(); err != nil {
		cl.Close()
		return err
	}
	if !e.known.disabled {
		// Read the topics once before the first export (bounded: brokers
		// down at start must not hold the collector up), then keep them
		// fresh in the background.
		e.refreshTopics(context.Background(), startFetchTimeout)
		watchCtx, cancel := context.WithCancel(context.Background())
		e.stopWatch, e.watchDone = cancel, make(chan struct{})
		go e.watchTopics(watchCtx, e.watchDone)
	}
	return nil
}

// startBacklogs starts the drainer and reports the guards (the backlogs',
// the known-topic list's) and the backlogs' gauges.
func (e *kafkaExporter) startBacklogs() error {
	b := e.cfg.PartitionBacklog
	var guards []guard.Guard
	if e.backlog == nil {
		for _, name := range []string{"partition_backlog.max_records", "partition_backlog.max_bytes",
			"partition_backlog.max_total_bytes", "partition_backlog.max_partitions"} {
			guards = append(guards, guard.Guard{Name: name, Disabled: true})
		}
	} else {
		guards = []guard.Guard{
			{Name: "partition_backlog.max_records", Limit: int64(b.MaxRecords), Use: e.backlog.largestRecords},
			{Name: "partition_backlog.max_bytes", Limit: b.MaxBytes, Use: e.backlog.largestBytes},
			{Name: "partition_backlog.max_total_bytes", Limit: b.MaxTotalBytes, Use: e.backlog.totalBytesUsed},
			{Name: "partition_backlog.max_partitions", Limit: int64(b.MaxPartitions), Use: e.backlog.partitionsUsed},
		}
	}
	// Topics named by record data must be known to exist; with automatic
	// topic creation on, any name is produced to (the guard is off).
	guards = append(guards,
		guard.Guard{Name: "topics.known_only", Disabled: e.known.disabled},
		guard.Guard{Name: "topics.max_known", Disabled: e.known.disabled, Limit: int64(e.known.max), Use: e.known.count})
	reg, err := guard.Register(e.telSettings, e.id, guards...)
	if err != nil {
		return fmt.Errorf("kafkatopics: guards: %w", err)
	}
	e.guards = reg
	if e.backlog == nil {
		return nil
	}
	e.gauges, err = e.tel.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		e.backlog.observe(o, e.tel.LogxKafkatopicsBacklogRecords, e.tel.LogxKafkatopicsBacklogBytes)
		return nil
	}, e.tel.LogxKafkatopicsBacklogRecords, e.tel.LogxKafkatopicsBacklogBytes)
	if err != nil {
		return fmt.Errorf("kafkatopics: backlog gauges: %w", err)
	}
	e.backlog.start(e.client)
	return nil
}

// shutdown runs after exporterhelper has drained its queue, so nothing is
// being produced any more but the partition backlogs: they get until ctx
// ends, at most timeout. Close then fails whatever a timed-out call left.
func (e *kafkaExporter) shutdown(ctx context.Context) error {
	if e.stopWatch != nil {
		e.stopWatch()
		<-e.watchDone
	}
	if e.backlog != nil {
		drainCtx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
		e.backlog.close(drainCtx)
		cancel()
	}
	if e.gauges != nil {
		_ = e.gauges.Unregister()
	}
	_ = e.guards.Unregister()
	if e.client != nil {
		e.client.Close()
	}
	return nil
}

// clientOptions turns the configuration into franz-go options.
func clientOptions(ctx context.Context, cfg *Config, logger *zap.Logger, parts kgo.Partitioner) ([]kgo.Opt, error) {
	p := cfg.Producer
	opts, err := cfg.ClientOptions(ctx, logger)
	if err != nil {
		return nil, fmt.Errorf("kafkatopics: %w", err)
	}
	opts = append(opts,
		kgo.ProducerLinger(p.Linger),
		kgo.ProducerBatchMaxBytes(int32(p.MaxBatchBytes)), //nolint:gosec // G115: Validate bounds max_batch_bytes below 2^31
		kgo.MaxBufferedRecords(p.MaxBufferedRecords),
		kgo.RecordDeliveryTimeout(p.DeliveryTimeout),
		kgo.ProducerBatchCompression(codec(p.Compression)),
	)
	switch p.Acks {
	case "all":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "leader":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case "none":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	}
	if !p.Idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if p.AllowAutoTopicCreation {
		opts = append(opts, kgo.AllowAutoTopicCreation())
	}
	switch {
	case parts != nil:
		// The exporter chooses each record's partition (partitioner.go),
		// in key mode as Kafka's murmur2 does.
		opts = append(opts, kgo.RecordPartitioner(parts))
	case cfg.Partition.Mode == PartitionBalance:
		// keys=false: the key still travels with the record, but does
		// not pick the partition. Adaptive: slow partitions get less.
		opts = append(opts, kgo.RecordPartitioner(kgo.UniformBytesPartitioner(64<<10, true, false, nil)))
	default:
		// Kafka's own murmur2 hashing, so that a Java producer with the
		// same key would pick the same partition.
		opts = append(opts, kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	}
	return opts, nil
}

func codec(name string) kgo.CompressionCodec {
	switch name {
	case "zstd":
		return kgo.ZstdCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "snappy":
		return kgo.SnappyCompression()
	case "gzip":
		return kgo.GzipCompression()
	default:
		return kgo.NoCompression()
	}
}
