package sdnotifyextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-logx/otelcol-logx/extension/sdnotifyextension/internal/metadata"
)

// NewFactory returns the sdnotify extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	return &Config{Watchdog: WatchdogConfig{
		RecoverableErrorGrace: 5 * time.Minute,
		HeartbeatInterval:     2 * time.Second,
		HeartbeatTimeout:      10 * time.Second,
	}}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(set, cfg.(*Config), processReloadSignals())
}
