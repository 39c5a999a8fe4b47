package lastgoodconverter

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/components"
	"github.com/otelcol-logx/otelcol-logx/internal/configguard"
)

// resolve reads a shipped config as the binary does, without converters.
func resolve(t *testing.T, path string) *confmap.Conf {
	t.Helper()
	r, err := confmap.NewResolver(confmap.ResolverSettings{
		URIs:              []string{path},
		ProviderFactories: components.Providers(),
		DefaultScheme:     "env",
	})
	require.NoError(t, err)
	conf, err := r.Resolve(context.Background())
	require.NoError(t, err)
	require.NoError(t, r.Shutdown(context.Background()))
	return conf
}

// TestShippedConfigsPass: every shipped config passes the converter
// unchanged, checked against the distribution's own components.
func TestShippedConfigsPass(t *testing.T) {
	t.Setenv("LOGX_STATE_DIR", t.TempDir())
	paths, err := filepath.Glob("../../../configs/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	conv := NewFactory().Create(confmap.ConverterSettings{Logger: zap.NewNop()})
	for _, p := range paths {
		conf := resolve(t, p)
		want := conf.ToStringMap()
		require.NoError(t, conv.Convert(context.Background(), conf), p)
		assert.Equal(t, want, conf.ToStringMap(), "%s changed by the converter", p)
	}
}

// TestCheckingLeaksNothing: the check runs on every reload of a daemon that
// runs for months, building (never starting) every component of the
// config; whatever that leaves behind would pile up.
func TestCheckingLeaksNothing(t *testing.T) {
	t.Setenv("LOGX_STATE_DIR", t.TempDir())
	conv := NewFactory().Create(confmap.ConverterSettings{Logger: zap.NewNop()})
	paths, err := filepath.Glob("../../../configs/*.yaml")
	require.NoError(t, err)
	confs := make([]*confmap.Conf, 0, len(paths))
	for _, p := range paths {
		confs = append(confs, resolve(t, p))
	}
	round := func() {
		for i, c := range confs {
			require.NoError(t, conv.Convert(context.Background(), c), paths[i])
		}
	}
	round() // first use initialises whatever is process-wide
	before := runtime.NumGoroutine()
	for range 10 {
		round()
	}
	t.Logf("goroutines before the rounds: %d, after: %d", before, runtime.NumGoroutine())
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 10*time.Second, 20*time.Millisecond,
		"goroutines grew from %d to %d over 10 rounds of checks", before, runtime.NumGoroutine())
}

// TestBadConfigAfterGoodIsReplaced: through the process-wide guard, a bad
// configuration after a good one comes out as the good one, and is counted.
func TestBadConfigAfterGoodIsReplaced(t *testing.T) {
	t.Setenv("LOGX_STATE_DIR", t.TempDir())
	dir := t.TempDir()
	good := resolve(t, "../../../configs/example-fifo.yaml")
	path := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte("receivers: {fifo: {path: /tmp/x}}\nexporters: {logfile: {path: /tmp/y, format: xml}}\nservice: {pipelines: {logs: {receivers: [fifo], exporters: [logfile]}}}\n"), 0o600))
	bad := resolve(t, path)

	conv := NewFactory().Create(confmap.ConverterSettings{Logger: zap.NewNop()})
	require.NoError(t, conv.Convert(context.Background(), good))
	failures := configguard.Default().Failures()
	require.NoError(t, conv.Convert(context.Background(), bad))
	assert.Equal(t, good.ToStringMap(), bad.ToStringMap(), "the bad configuration was not replaced by the running one")
	assert.Equal(t, failures+1, configguard.Default().Failures())
	assert.EqualValues(t, 0, configguard.Default().LastReloadSucceeded())
}
