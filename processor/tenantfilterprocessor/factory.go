package tenantfilterprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/processor/tenantfilterprocessor/internal/metadata"
)

// NewFactory returns the tenantfilter processor's factory.
func NewFactory() processor.Factory {
	return processor.NewFactory(metadata.Type, createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability))
}

// The defaults follow the tenantbuffer exporter's: the tenant in
// logx.tenant, a reload every minute, at most 10% of the coverage taken
// away at once. Records without a tenant pass: tier 2 carries hosts' own
// logs too, which belong to no tenant.
func createDefaultConfig() component.Config {
	return &Config{
		Tenant:             TenantConfig{Attribute: logattr.Tenant, Missing: missingPass},
		ReloadInterval:     time.Minute,
		MaxRemovedFraction: 0.1,
	}
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	_, p, err := newLogsProcessor(ctx, set, cfg.(*Config), next)
	return p, err
}

// newLogsProcessor also returns the filter itself, for tests to reload
// its job document at a moment they choose.
func newLogsProcessor(ctx context.Context, set processor.Settings, cfg *Config, next consumer.Logs) (*tenantFilter, processor.Logs, error) {
	f, err := newTenantFilter(cfg, set)
	if err != nil {
		return nil, nil, err
	}
	p, err := processorhelper.NewLogs(ctx, set, cfg, next, f.processLogs,
		processorhelper.WithStart(f.start),
		processorhelper.WithShutdown(f.shutdown),
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
	return f, p, err
}
