package tenantbufferexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// NewFactory returns the factory of the tenantbuffer exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability))
}

// Defaults are bounded: a fleet-wide misconfiguration that sends every
// tenant here meets max_buffers, and the bytes meet the per-tenant, total
// and free-disk guards, before the host is in trouble.
func createDefaultConfig() component.Config {
	return &Config{
		Directory: "",
		Tenant: TenantConfig{
			Attribute: logattr.Tenant,
			MaxLength: 256,
		},
		Limits: LimitsConfig{
			MaxBuffers:        10000,
			MaxBytesPerTenant: 256 << 20,
			MaxTotalBytes:     10 << 30,
			MinFreeDiskBytes:  1 << 30,
			MaxOpenFiles:      256,
		},
		Retention: RetentionConfig{MaxAge: Age(72 * time.Hour)},
		Segments: SegmentsConfig{
			MaxBytes:       16 << 20,
			MaxAge:         10 * time.Minute,
			MaxRecordBytes: 1 << 20,
		},
		Durability:    DurabilityConfig{Fsync: true},
		IdleTimeout:   5 * time.Minute,
		SweepInterval: 10 * time.Second,
		Telemetry:     TelemetryConfig{TopTenants: 10},
		Push: PushConfig{
			ReloadInterval:     time.Minute,
			MaxRemovedFraction: 0.1,
			Unmatched:          "drop",
			Workers:            8,
			QuantumBytes:       1 << 20,
			BackoffInitial:     time.Second,
			BackoffMax:         5 * time.Minute,
			BreakerFailures:    5,
			BreakerOpen:        time.Minute,
			DeadLetter:         defaultDeadLetterConfig(),
		},
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newTenantBufferExporter(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, e.consumeLogs,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		// No retry sender: a record refused by a guard, or by a failure of
		// its own tenant's directory or segment, is counted and would not
		// fit better a moment later, and the call succeeds for the other
		// tenants. Only what concerns the whole call (a failed sync: the
		// records may not be durable) goes back upstream.
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
