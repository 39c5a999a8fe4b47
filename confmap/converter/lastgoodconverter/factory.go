package lastgoodconverter

import (
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-logx/otelcol-logx/components"
	"github.com/otelcol-logx/otelcol-logx/internal/configguard"
)

// NewFactory returns the converter, checking against components.Factories()
// and sharing the process's guard with the guarded file provider and the
// telemetry of this distribution.
func NewFactory() confmap.ConverterFactory {
	return configguard.Default().ConverterFactory(components.Factories)
}
