package kafkatopicsexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/kafkaconn"
)

// NewFactory returns the kafkatopics exporter factory.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability))
}

// Defaults: host + service keys, acks from every in-sync replica, an
// idempotent producer, bounded buffers, and a delivery timeout that hands
// records back to the queue while a broker is unreachable.
func createDefaultConfig() component.Config {
	return &Config{
		clusterConfig: kafkaconn.Config{Brokers: []string{"127.0.0.1:9092"}, ClientID: "otelcol-logx"},
		Producer: ProducerConfig{
			Acks:               "all",
			Idempotent:         true,
			Compression:        "zstd",
			Linger:             0,
			MaxBatchBytes:      1_000_000,
			MaxMessageBytes:    defaultMaxMessageLen,
			MaxBufferedRecords: 100_000,
			DeliveryTimeout:    10 * time.Second,
		},
		Topics: TopicsConfig{
			Data:       "logs-{cfjs1.format}",
			DeadLetter: "logs-dead-letter",
			Fallback:   "logs-unrouted",
			// Topics are read from the brokers at start and every minute:
			// a topic created on the cluster is used within a minute.
			RefreshInterval: time.Minute,
			MaxKnown:        defaultMaxKnown,
		},
		Partition: PartitionConfig{
			Key:  "{host.name}/{logx.service}",
			Mode: PartitionByKey,
		},
		// A call that has had no acknowledgement for 250 ms (healthy
		// brokers answer in milliseconds) takes the partitions it still
		// waits for as failing; their records wait, in order, in backlogs
		// of a minute of a partition taking 5,000 records/s (500,000
		// records, 256 MiB), 512 MiB in all (README).
		PartitionBacklog: PartitionBacklogConfig{
			Enabled:       true,
			FailingAfter:  250 * time.Millisecond,
			Policy:        BacklogWait,
			MaxRecords:    500_000,
			MaxBytes:      256 << 20,
			MaxTotalBytes: 512 << 20,
			MaxPartitions: 64,
		},
		Encoding:    EncodingCFJS1,
		CFJS1:       CFJS1Config{DefaultFormat: "unknown"},
		Timeout:     30 * time.Second,
		QueueConfig: configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		RetryConfig: configretry.NewDefaultBackOffConfig(),
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newKafkaExporter(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, e.pushLogs,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		// The exporter does not modify the logs it is given.
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: c.Timeout}),
		exporterhelper.WithRetry(c.RetryConfig),
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
