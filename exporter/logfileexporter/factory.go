package logfileexporter // import "github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// NewFactory returns the factory of the logfile exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability))
}

// createDefaultConfig is bounded everywhere: files rotate at 100 MiB and
// ten are kept, at most 64 files are open, at most 1000 distinct paths
// hold files (the rest share the overflow file), and the exporter stops
// writing at 10 GiB in total or when less than 1 GiB is free.
//
// max_paths 1000: with ten backups a path is up to eleven files, so the
// directory stays near 11,000 files, which ls, logrotate and this
// exporter's minute sweep list in milliseconds; and the 10 GiB total
// still leaves 10 MiB per path. A host rarely runs more than a few
// hundred services; a template over an unbounded attribute (a request
// id) fills the cap quickly and visibly instead of the disk.
func createDefaultConfig() component.Config {
	return &Config{
		Missing:        "unknown",
		Format:         formatText,
		Multiline:      multilineEscape,
		MaxRecordBytes: 1 << 20,
		Syslog:         SyslogConfig{Facility: 1, Timezone: "UTC"},
		CFJS1:          CFJS1Config{FormatAttribute: logattr.CFJS1Format, DefaultFormat: "unknown"},
		MaxOpenFiles:   64,
		MaxPaths:       1000,
		Permissions:    PermissionsConfig{FileMode: "0640", DirMode: "0750"},
		Rotation: RotationConfig{
			MaxBytes:    100 << 20,
			MaxBackups:  10,
			Compression: compressionGzip,
		},
		Flush:     FlushConfig{Interval: time.Second, BufferBytes: 256 << 10},
		Reopen:    ReopenConfig{CheckInterval: time.Second, OnSIGHUP: true},
		DiskGuard: DiskGuardConfig{MaxTotalBytes: 10 << 30, MinFreeBytes: 1 << 30, CheckInterval: time.Second, OnFull: onFullDrop},
		// Writing a file is fast and local: no queue by default, so that
		// a batch is on its way to disk when the pipeline call returns.
		Timeout:     exporterhelper.NewDefaultTimeoutConfig().Timeout,
		RetryConfig: configretry.NewDefaultBackOffConfig(),
		QueueConfig: configoptional.None[exporterhelper.QueueBatchConfig](),
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newLogfileExporter(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, e.pushLogs,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: c.Timeout}),
		exporterhelper.WithRetry(c.RetryConfig),
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
