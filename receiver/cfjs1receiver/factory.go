package cfjs1receiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver/internal/metadata"
)

// NewFactory returns the factory of the cfjs1 receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Endpoint:              "127.0.0.1:5170",
		MaxConnections:        1024,
		MaxConnectionsPerPeer: 32,
		MaxLineSize:           1 << 20,
		MaxBufferedBytes:      256 << 20,
		IdleTimeout:           5 * time.Minute,
		HandshakeTimeout:      10 * time.Second,
		LineTimeout:           30 * time.Second,
		MaxBatchLines:         1000,
		Decode:                cfjs1.DefaultLimits(),
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(set, cfg.(*Config), next)
}
