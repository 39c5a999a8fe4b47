package logfileexporter

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// fakeClock is the injectable clock of the tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

var testStart = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type testEnv struct {
	t     *testing.T
	e     *logfileExporter
	tt    *componenttest.Telemetry
	clock *fakeClock
	dir   string
}

// newTestEnv builds a started exporter writing under a temporary
// directory, with a fake clock and in-memory telemetry. mutate adjusts the
// config (a relative path is taken under the directory).
func newTestEnv(t *testing.T, mutate func(*Config)) *testEnv {
	t.Helper()
	dir := t.TempDir()
	cfg := createDefaultConfig().(*Config)
	cfg.Path = "{logx.service}.log"
	cfg.Flush.Interval = 0 // visible after each batch
	if mutate != nil {
		mutate(cfg)
	}
	if !filepath.IsAbs(cfg.Path) {
		cfg.Path = filepath.Join(dir, cfg.Path)
	}
	require.NoError(t, cfg.Validate())
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tt.NewTelemetrySettings()
	e, err := newLogfileExporter(cfg, set)
	require.NoError(t, err)
	clock := &fakeClock{t: testStart}
	e.now = clock.Now
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	env := &testEnv{t: t, e: e, tt: tt, clock: clock, dir: dir}
	t.Cleanup(func() { _ = e.shutdown(context.Background()) })
	return env
}

func (env *testEnv) push(ld plog.Logs) {
	env.t.Helper()
	require.NoError(env.t, env.e.pushLogs(context.Background(), ld))
}

// lines makes n records of service svc with bodies body-0, body-1, ...
func lines(svc string, bodies ...string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(logattr.HostName, "host-a")
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, b := range bodies {
		r := recs.AppendEmpty()
		r.SetTimestamp(pcommon.NewTimestampFromTime(testStart))
		r.Body().SetStr(b)
		if svc != "" {
			r.Attributes().PutStr(logattr.Service, svc)
		}
	}
	return ld
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

// counter returns the sum of an int counter's points whose reason
// attribute is reason ("" for any).
func (env *testEnv) counter(name, reason string) int64 {
	m, err := env.tt.GetMetric(name)
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if v, ok := dp.Attributes.Value("reason"); reason == "" || ok && v.AsString() == reason {
			n += dp.Value
		}
	}
	return n
}

// listRotated reads path's directory and returns its rotated siblings
// (unfinished compressions included), oldest first.
func listRotated(path string) []rotatedFile {
	return listDir(dirOf(path)).filesOf(path)
}
