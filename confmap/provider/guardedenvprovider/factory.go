package guardedenvprovider

import (
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"

	"github.com/otelcol-logx/otelcol-logx/internal/configguard"
)

// NewFactory returns the upstream env provider wrapped by the process's
// configuration guard. Without the lastgoodconverter in the same process it
// behaves exactly as the upstream one.
func NewFactory() confmap.ProviderFactory {
	return configguard.Default().WrapProvider(envprovider.NewFactory())
}
