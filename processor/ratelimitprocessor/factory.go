package ratelimitprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/processor/ratelimitprocessor/internal/metadata"
)

// NewFactory returns the ratelimit processor's factory.
func NewFactory() processor.Factory { return newFactory(realClock{}) }

// newFactory lets tests run the processor, even inside a whole collector,
// on a fake clock.
func newFactory(clock Clock) processor.Factory {
	return processor.NewFactory(metadata.Type, createDefaultConfig,
		processor.WithLogs(func(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
			return createLogs(ctx, set, cfg, next, clock)
		}, metadata.LogsStability))
}

// The defaults limit every service to 1000 records/s with a burst of 5000,
// in a table of at most 10000 keys: about 2 MB, whatever arrives.
func createDefaultConfig() component.Config {
	return &Config{
		Key: KeyConfig{
			Fields:       []FieldConfig{{From: fromAttribute, Name: logattr.Service}},
			DefaultValue: "_default",
		},
		Rate:        1000,
		Burst:       5000,
		MaxKeys:     10000,
		IdleTimeout: 5 * time.Minute,
		Overflow:    LimitConfig{Rate: 1000, Burst: 5000},
		Severity:    SeverityConfig{Mode: severityModeExempt},
		Summary: SummaryConfig{
			Enabled:     true,
			Interval:    time.Minute,
			Destination: summaryToPipeline,
			MaxRecords:  100,
		},
		Metrics: MetricsConfig{TopKeys: 20, Interval: 10 * time.Second},
	}
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs, clock Clock) (processor.Logs, error) {
	c := cfg.(*Config)
	p, err := newRateLimiter(c, set.TelemetrySettings, next, clock)
	if err != nil {
		return nil, err
	}
	if err := p.registerGuards(set.TelemetrySettings, set.ID); err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithStart(p.start),
		processorhelper.WithShutdown(p.shutdown),
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: !c.DryRun}))
}
