package kafkatopicsreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/kafkaconn"
	"github.com/otelcol-logx/otelcol-logx/receiver/kafkatopicsreceiver/internal/metadata"
)

// NewFactory returns the factory of the kafkatopics receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		clusterConfig: kafkaconn.Config{ClientID: "otelcol-logx"},
		Group: GroupConfig{
			SessionTimeout:    45 * time.Second,
			RebalanceTimeout:  60 * time.Second,
			HeartbeatInterval: 3 * time.Second,
			InitialOffset:     OffsetEarliest,
		},
		Fetch:    FetchConfig{MaxPollRecords: 5000, MaxBytes: 16 << 20, MaxPartitionBytes: 1 << 20},
		Retry:    RetryConfig{InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second},
		Encoding: EncodingCFJS1,
		CFJS1:    CFJS1Config{Decode: cfjs1.DefaultLimits()},
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(set, cfg.(*Config), next)
}
