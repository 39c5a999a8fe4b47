package configguard

import (
	"context"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/otelcol"
)

// ConverterFactory returns the confmap converter that checks every resolved
// configuration against the given components.
func (g *Guard) ConverterFactory(factories func() (otelcol.Factories, error)) confmap.ConverterFactory {
	return confmap.NewConverterFactory(func(set confmap.ConverterSettings) confmap.Converter {
		g.arm(set.Logger)
		return converter{guard: g, factories: factories}
	})
}

type converter struct {
	guard     *Guard
	factories func() (otelcol.Factories, error)
}

func (c converter) Convert(ctx context.Context, conf *confmap.Conf) error {
	return c.guard.convert(ctx, conf, c.factories)
}
