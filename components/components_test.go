package components

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
)

func TestFactoriesAreValid(t *testing.T) {
	f, err := Factories()
	require.NoError(t, err)
	require.NotNil(t, f.Telemetry)
	for typ, r := range f.Receivers {
		require.NoError(t, componenttest.CheckConfigStruct(r.CreateDefaultConfig()), "receiver %s", typ)
	}
	for typ, p := range f.Processors {
		require.NoError(t, componenttest.CheckConfigStruct(p.CreateDefaultConfig()), "processor %s", typ)
	}
	for typ, e := range f.Exporters {
		require.NoError(t, componenttest.CheckConfigStruct(e.CreateDefaultConfig()), "exporter %s", typ)
	}
	for typ, e := range f.Extensions {
		require.NoError(t, componenttest.CheckConfigStruct(e.CreateDefaultConfig()), "extension %s", typ)
	}
	for typ, c := range f.Connectors {
		assert.NoError(t, componenttest.CheckConfigStruct(c.CreateDefaultConfig()), "connector %s", typ)
	}
}

func TestModulesCoverFactories(t *testing.T) {
	f, err := Factories()
	require.NoError(t, err)
	counts := map[Kind]int{}
	for _, m := range Modules() {
		counts[m.Kind]++
		assert.NotContains(t, m.Import, ".NewFactory", "import path must not carry the symbol name")
	}
	assert.Equal(t, len(f.Receivers), counts[KindReceiver])
	assert.Equal(t, len(f.Processors), counts[KindProcessor])
	assert.Equal(t, len(f.Exporters), counts[KindExporter])
	assert.Equal(t, len(f.Extensions), counts[KindExtension])
	assert.Equal(t, len(f.Connectors), counts[KindConnector])
	assert.Equal(t, 1, counts[KindTelemetry])
	assert.Equal(t, len(converters), counts[KindConverter])
}

func TestImportPath(t *testing.T) {
	assert.Equal(t, "github.com/otelcol-logx/otelcol-logx/components", importPath(Factories))
	assert.Equal(t, "github.com/otelcol-logx/otelcol-logx/service/telemetry/logxtelemetry", importPath(telemetry))
}

// TestBuilderConfigIsCurrent fails when builder-config.yaml was not
// regenerated after the component list or go.mod changed.
func TestBuilderConfigIsCurrent(t *testing.T) {
	goMod, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	want, err := BuilderConfig(goMod)
	require.NoError(t, err)
	got, err := os.ReadFile("../builder-config.yaml")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "builder-config.yaml is stale: run `make builder-config`")
}

func TestBuilderConfigRefusesUnknownModule(t *testing.T) {
	_, err := moduleEntry("example.com/nowhere/receiver", "github.com/otelcol-logx/otelcol-logx", map[string]string{})
	require.ErrorContains(t, err, "go get example.com/nowhere/receiver")
}
