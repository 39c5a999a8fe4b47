package logfileexporter

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter/internal/metadata"
)

// TestFactoryEndToEnd runs the exporter as the collector does: through
// exporterhelper, started, fed, and shut down (which flushes).
func TestFactoryEndToEnd(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	cfg := f.CreateDefaultConfig().(*Config)
	dir := t.TempDir()
	cfg.Path = filepath.Join(dir, "{logx.service}.log")
	cfg.Format = formatSyslog
	require.NoError(t, cfg.Validate())

	exp, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, exp.ConsumeLogs(context.Background(), lines("api", "one", "two")))
	require.NoError(t, exp.Shutdown(context.Background()))

	b, err := os.ReadFile(filepath.Join(dir, "api.log"))
	require.NoError(t, err)
	assert.Equal(t, "<14>1 2026-11-22T10:00:00.000000Z host-a api - - - one\n"+
		"<14>1 2026-11-22T10:00:00.000000Z host-a api - - - two\n", string(b))
}

func TestCreateRefusesUnknownOwner(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(t.TempDir(), "x.log")
	cfg.Permissions.Owner = "no-such-user-logx"
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	err = exp.Start(context.Background(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "permissions.owner")
	require.NoError(t, exp.Shutdown(context.Background()))
}
