package fanoutconnector

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pipeline"

	"github.com/otelcol-logx/otelcol-logx/connector/fanoutconnector/internal/metadata"
)

// NewFactory returns the fanout connector's factory (logs to logs).
func NewFactory() connector.Factory {
	return connector.NewFactory(metadata.Type,
		func() component.Config { return createDefaultConfig() },
		connector.WithLogsToLogs(createLogsToLogs, metadata.LogsToLogsStability))
}

// errNotRouter: the collector hands a connector a router over the
// pipelines it feeds; anything else cannot be told apart per pipeline.
var errNotRouter = errors.New("fanout: the next consumer is not a pipeline router (connector.LogsRouterAndConsumer); the fanout connector only runs inside a collector pipeline graph")

func createLogsToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Logs, error) {
	router, ok := next.(connector.LogsRouterAndConsumer)
	if !ok {
		return nil, errNotRouter
	}
	// One consumer per pipeline: the router's own ConsumeLogs (and a
	// Consumer of several IDs) would join their errors again.
	consumers := make(map[pipeline.ID]consumer.Logs)
	for _, id := range router.PipelineIDs() {
		c, err := router.Consumer(id)
		if err != nil {
			return nil, err
		}
		consumers[id] = c
	}
	return newFanout(set.TelemetrySettings, set.ID, cfg.(*Config), consumers)
}
