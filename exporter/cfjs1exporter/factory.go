package cfjs1exporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-logx/otelcol-logx/exporter/cfjs1exporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// NewFactory returns the factory of the cfjs1 exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	queue := exporterhelper.NewDefaultQueueConfig()
	// Bounded in records, never blocking: when every endpoint is down the
	// queue fills and then refuses, so receivers upstream keep draining
	// (and count their drops) instead of stalling their writers.
	queue.Sizer = exporterhelper.RequestSizerTypeItems
	queue.QueueSize = 200_000
	queue.BlockOnOverflow = false
	queue.NumConsumers = 4
	batch := exporterhelper.NewDefaultBatchConfig()
	batch.FlushTimeout = 100 * time.Millisecond
	batch.MinSize = 1000
	batch.MaxSize = 5000
	queue.Batch = configoptional.Some(batch)

	retry := configretry.NewDefaultBackOffConfig()
	retry.MaxElapsedTime = 0 // keep trying while the queue holds the data

	return &Config{
		Mode:            ModeAll,
		FormatAttribute: logattr.CFJS1Format,
		DefaultFormat:   "syslog",
		MaxLineSize:     defaultMaxLineSize,
		Connection: ConnectionConfig{
			ConnectTimeout: time.Second,
			WriteTimeout:   time.Second,
			KeepAlive:      5 * time.Second,
			KeepAliveCount: 3,
			UserTimeout:    2 * time.Second,
		},
		Ack:         AckConfig{Enabled: true, Timeout: time.Second, Window: 20_000, HeartbeatInterval: 500 * time.Millisecond},
		Failback:    FailbackConfig{InitialBackoff: 200 * time.Millisecond, MaxBackoff: 30 * time.Second, HealthyFor: 10 * time.Second},
		Timeout:     10 * time.Second,
		QueueConfig: configoptional.Some(queue),
		RetryOnFail: retry,
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newExporter(set, c)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, e.pushLogs,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: c.Timeout}),
		exporterhelper.WithRetry(c.RetryOnFail),
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
