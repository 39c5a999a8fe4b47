package cfjs1exporter_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/otelcol"

	"github.com/otelcol-logx/otelcol-logx/components"
)

// The example configs of the cfjs1 components must validate (as `make test`
// checks with the built binary), so they stay runnable.
func TestExampleConfigsValidate(t *testing.T) {
	for _, name := range []string{"example-cfjs1-edge.yaml", "example-cfjs1-tier2.yaml"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("LOGX_STATE_DIR", t.TempDir())
			path, err := filepath.Abs(filepath.Join("..", "..", "configs", name))
			require.NoError(t, err)
			col, err := otelcol.NewCollector(otelcol.CollectorSettings{
				BuildInfo: component.BuildInfo{Command: components.Name, Version: components.Version},
				Factories: components.Factories,
				ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
					URIs: []string{"file:" + path}, ProviderFactories: components.Providers(), DefaultScheme: "env",
				}},
			})
			require.NoError(t, err)
			require.NoError(t, col.DryRun(context.Background()))
		})
	}
}
