package unixsocketreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

// NewFactory returns the unixsocket receiver factory.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithLogs(createLogs, metadata.LogsStability))
}

func createDefaultConfig() component.Config {
	return &Config{
		Transport:            Stream,
		Mode:                 "0666",
		Framing:              framing.Auto,
		MaxMessageSize:       64 * 1024,
		Format:               syslog.FormatAuto,
		MaxConnections:       256,
		MaxConnectionsPerUID: 32,
		IdleTimeout:          5 * time.Minute,
		Peer:                 PeerConfig{Credentials: true, SystemdUnit: true, UntrustedService: UntrustedUID},
		Buffer:               ingest.DefaultBufferConfig(),
	}
}

func createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return newReceiver(set, cfg.(*Config), next)
}
