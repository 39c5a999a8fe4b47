package configguard

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/otelcol"
)

// TestUnguardedReloadStopsCollector is the defect the guard exists for: the
// same collector and reload without the guard's provider and converter
// exits (Run returns the error) once the file turns into garbage.
func TestUnguardedReloadStopsCollector(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(file, []byte(goodConfig("basic")), 0o600))
	g := newGuard(dir, ModeRun, false) // only for the test factories' telemetry
	files := &watchedFileProvider{Provider: newFileProvider()}
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo: component.NewDefaultBuildInfo(),
		Factories: testFactories(g),
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              []string{file},
			ProviderFactories: []confmap.ProviderFactory{confmap.NewProviderFactory(func(confmap.ProviderSettings) confmap.Provider { return files })},
		}},
		DisableGracefulShutdown: true,
		SkipSettingGRPCLogger:   true,
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- col.Run(context.Background()) }()
	t.Cleanup(col.Shutdown)
	require.Eventually(t, func() bool { return col.GetState() == otelcol.StateRunning }, 20*time.Second, 5*time.Millisecond)

	require.NoError(t, os.WriteFile(file, []byte(badConfigs[0].content), 0o600))
	files.changed()
	select {
	case err := <-done:
		require.ErrorContains(t, err, "cannot be used as a Conf")
	case <-time.After(20 * time.Second):
		t.Fatal("the unguarded collector survived a garbage reload: the guard's premise no longer holds")
	}
}
