package e2e

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/otelcol"

	"github.com/otelcol-logx/otelcol-logx/components"
)

// TestJournalExampleConfigValidates runs `otelcol-logx validate` on the example,
// which reads the system journal: validation does not start receivers, so
// it passes on a machine without journald.
func TestJournalExampleConfigValidates(t *testing.T) {
	t.Setenv("LOGX_STATE_DIR", t.TempDir())
	cmd := otelcol.NewCommand(otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: components.Name, Version: components.Version},
		Factories: components.Factories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			ProviderFactories: components.Providers(),
			DefaultScheme:     "env",
		}},
	})
	cmd.SetArgs([]string{"validate", "--config=file:" + filepath.Join("..", "configs", "example-journal.yaml")})
	require.NoError(t, cmd.Execute())
}
