package components

import (
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/receiver"
)

type (
	receiverFactory  = receiver.Factory
	processorFactory = processor.Factory
	exporterFactory  = exporter.Factory
	extensionFactory = extension.Factory
	connectorFactory = connector.Factory
)

// Factories returns every component of the distribution, keyed by type. It
// fails when two components claim the same type name.
func Factories() (otelcol.Factories, error) {
	var err error
	f := otelcol.Factories{Telemetry: telemetry()}
	if f.Receivers, err = byType(receivers); err != nil {
		return otelcol.Factories{}, err
	}
	if f.Processors, err = byType(processors); err != nil {
		return otelcol.Factories{}, err
	}
	if f.Exporters, err = byType(exporters); err != nil {
		return otelcol.Factories{}, err
	}
	if f.Extensions, err = byType(extensions); err != nil {
		return otelcol.Factories{}, err
	}
	if f.Connectors, err = byType(connectors); err != nil {
		return otelcol.Factories{}, err
	}
	return f, nil
}

func byType[F component.Factory](constructors []func() F) (map[component.Type]F, error) {
	out := make(map[component.Type]F, len(constructors))
	for _, newFactory := range constructors {
		factory := newFactory()
		if _, dup := out[factory.Type()]; dup {
			return nil, fmt.Errorf("two components share the type %q", factory.Type())
		}
		out[factory.Type()] = factory
	}
	return out, nil
}

// Providers returns the config providers of the distribution, for
// in-process collectors that resolve the same URIs as the binary.
func Providers() []confmap.ProviderFactory {
	out := make([]confmap.ProviderFactory, len(providers))
	for i, newProvider := range providers {
		out[i] = newProvider()
	}
	return out
}
