// Package components is the one list of what the otelcol-logx distribution
// contains. Factories() serves in-process collectors (tests, tools), and
// cmd/genbuilder writes builder-config.yaml for OCB from the same list, so
// the two can never disagree. Adding a component means adding one line below.
package components // import "github.com/otelcol-logx/otelcol-logx/components"

import (
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/healthcheckextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/pprofextension"
	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/httpprovider"
	"go.opentelemetry.io/collector/confmap/provider/httpsprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/exporter/nopexporter"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/exporter/otlphttpexporter"
	"go.opentelemetry.io/collector/extension/zpagesextension"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/processor/memorylimiterprocessor"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"

	"github.com/otelcol-logx/otelcol-logx/confmap/provider/guardedenvprovider"
	"github.com/otelcol-logx/otelcol-logx/confmap/provider/guardedfileprovider"
	"github.com/otelcol-logx/otelcol-logx/connector/fanoutconnector"
	"github.com/otelcol-logx/otelcol-logx/exporter/cfjs1exporter"
	"github.com/otelcol-logx/otelcol-logx/exporter/kafkatopicsexporter"
	"github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter"
	"github.com/otelcol-logx/otelcol-logx/extension/gomaxprocsextension"
	"github.com/otelcol-logx/otelcol-logx/extension/sdnotifyextension"
	_ "github.com/otelcol-logx/otelcol-logx/internal/healthcheckgate" // health_check answers from component status by default
	"github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor"
	"github.com/otelcol-logx/otelcol-logx/processor/ratelimitprocessor"
	"github.com/otelcol-logx/otelcol-logx/processor/tenantfilterprocessor"
	"github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver"
	"github.com/otelcol-logx/otelcol-logx/receiver/fiforeceiver"
	"github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver"
	"github.com/otelcol-logx/otelcol-logx/receiver/kafkatopicsreceiver"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver"
	"github.com/otelcol-logx/otelcol-logx/service/telemetry/logxtelemetry"
)

// The lists hold constructors, not factories: the generator derives each
// component's Go import path from its constructor's symbol name.

var receivers = []func() receiverFactory{
	otlpreceiver.NewFactory,
	cfjs1receiver.NewFactory,
	journalreceiver.NewFactory,
	kafkatopicsreceiver.NewFactory,
	unixsocketreceiver.NewFactory,
	fiforeceiver.NewFactory,
}

var processors = []func() processorFactory{
	batchprocessor.NewFactory,
	memorylimiterprocessor.NewFactory,
	ratelimitprocessor.NewFactory,
	externaljsonprocessor.NewFactory,
	tenantfilterprocessor.NewFactory,
}

var exporters = []func() exporterFactory{
	otlpexporter.NewFactory,
	otlphttpexporter.NewFactory,
	debugexporter.NewFactory,
	nopexporter.NewFactory,
	cfjs1exporter.NewFactory,
	logfileexporter.NewFactory,
	tenantbufferexporter.NewFactory,
	kafkatopicsexporter.NewFactory,
}

var connectors = []func() connectorFactory{
	fanoutconnector.NewFactory,
}

var extensions = []func() extensionFactory{
	zpagesextension.NewFactory,
	healthcheckextension.NewFactory,
	pprofextension.NewFactory,
	filestorage.NewFactory,
	sdnotifyextension.NewFactory,
	gomaxprocsextension.NewFactory,
}

// telemetry provides the collector's own logs and metrics: the upstream
// otelconftelemetry, plus the configuration guard's metrics.
var telemetry = logxtelemetry.NewFactory

// providers resolve config URIs: ${env:...}, file:, yaml:, http(s):. The
// env and file providers are the upstream ones, guarded so that a reference
// they cannot resolve on reload is refused instead of stopping the collector.
var providers = []func() confmap.ProviderFactory{
	guardedenvprovider.NewFactory,
	guardedfileprovider.NewFactory,
	httpprovider.NewFactory,
	httpsprovider.NewFactory,
	yamlprovider.NewFactory,
}

// converters run on every resolved configuration. They are listed by import
// path, not constructor: the last-good converter checks configurations
// against Factories(), so it imports this package and this package cannot
// import it. TestConverterImportPaths keeps the path honest.
var converters = []string{
	"github.com/otelcol-logx/otelcol-logx/confmap/converter/lastgoodconverter",
}
