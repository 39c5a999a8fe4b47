package components

import (
	"reflect"
	"runtime"
	"strings"
)

// Kind is the section of builder-config.yaml a component belongs to.
type Kind string

// The kinds, named as OCB's builder-config.yaml names its sections.
const (
	KindReceiver  Kind = "receivers"
	KindProcessor Kind = "processors"
	KindExporter  Kind = "exporters"
	KindExtension Kind = "extensions"
	KindConnector Kind = "connectors"
	KindProvider  Kind = "providers"
	KindConverter Kind = "converters"
	KindTelemetry Kind = "telemetry"
)

// Module is one entry of the distribution: its kind and Go import path.
type Module struct {
	Kind   Kind
	Import string
}

// Modules lists every entry of the distribution in a stable order: the list
// order above, kind by kind. cmd/genbuilder turns it into builder-config.yaml.
func Modules() []Module {
	var out []Module
	out = appendImports(out, KindReceiver, receivers)
	out = appendImports(out, KindProcessor, processors)
	out = appendImports(out, KindExporter, exporters)
	out = appendImports(out, KindExtension, extensions)
	out = appendImports(out, KindConnector, connectors)
	out = appendImports(out, KindProvider, providers)
	for _, c := range converters {
		out = append(out, Module{Kind: KindConverter, Import: c})
	}
	return append(out, Module{Kind: KindTelemetry, Import: importPath(telemetry)})
}

func appendImports[F any](out []Module, kind Kind, constructors []func() F) []Module {
	for _, c := range constructors {
		out = append(out, Module{Kind: kind, Import: importPath(c)})
	}
	return out
}

// importPath derives a package's import path from one of its functions:
// the runtime names it "<import path>.<Func>".
func importPath(fn any) string {
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	lastSlash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[lastSlash+1:], '.')
	return name[:lastSlash+1+dot]
}
