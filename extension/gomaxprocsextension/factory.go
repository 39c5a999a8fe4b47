package gomaxprocsextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-logx/otelcol-logx/extension/gomaxprocsextension/internal/metadata"
)

// NewFactory returns the gomaxprocs extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	return &Config{
		Min:      1,
		Interval: time.Second,
		ScaleUp:  ScaleUpConfig{Utilization: 0.75},
		ScaleDown: ScaleDownConfig{
			Utilization: 0.6,
			After:       5 * time.Second,
		},
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(set, cfg.(*Config))
}
