package externaljsonprocessor

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor/internal/metadata"
)

// fakeClock is the injectable clock of the stale tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness is an enricher with observed logs and real metrics.
type harness struct {
	e    *enricher
	logs *observer.ObservedLogs
	tel  *componenttest.Telemetry
	// refreshes receives the source name after every refresh of the loop.
	refreshes chan string
}

func newHarness(t *testing.T, cfg *Config) *harness {
	t.Helper()
	require.NoError(t, confmap.Validate(cfg))
	core, logs := observer.New(zapcore.DebugLevel)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := tel.NewTelemetrySettings()
	set.Logger = zap.New(core)
	e, err := newProcessor(set, component.NewID(metadata.Type), cfg)
	require.NoError(t, err)
	h := &harness{e: e, logs: logs, tel: tel, refreshes: make(chan string, 1024)}
	e.afterRefresh = func(s string) {
		select {
		case h.refreshes <- s:
		default:
		}
	}
	return h
}

// start runs Start (first fetch included, bounded by startup_wait). With a
// long interval the loop then sleeps, and the test drives refresh itself.
func (h *harness) start(t *testing.T) {
	t.Helper()
	require.NoError(t, h.e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, h.e.shutdown(context.Background())) })
}

// waitRefresh waits for n loop refreshes (of any source), bounded.
func (h *harness) waitRefresh(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for range n {
		select {
		case <-h.refreshes:
		case <-deadline:
			t.Fatalf("no refresh within 10s")
		}
	}
}

func (h *harness) src(name string) *source {
	for _, s := range h.e.sources {
		if s.cfg.Name == name {
			return s
		}
	}
	return nil
}

// enrich runs one record (with the given attributes) through the hot path
// and returns its record and resource attributes as raw maps.
func (h *harness) enrich(t *testing.T, recordAttrs map[string]any) (record, resource map[string]any) {
	t.Helper()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	require.NoError(t, lr.Attributes().FromRaw(recordAttrs))
	out, err := h.e.processLogs(context.Background(), ld)
	require.NoError(t, err)
	rl = out.ResourceLogs().At(0)
	return rl.ScopeLogs().At(0).LogRecords().At(0).Attributes().AsRaw(), rl.Resource().Attributes().AsRaw()
}

// counter sums an Int64 counter's points whose attributes include want.
func (h *harness) counter(t *testing.T, name string, want map[string]string) int64 {
	t.Helper()
	return testutil.SumInt64Where(t, h.tel, name, want)
}

// errorLogs returns the observed error-level entries.
func (h *harness) errorLogs() []observer.LoggedEntry {
	return h.logs.FilterLevelExact(zapcore.ErrorLevel).All()
}

// writeScript writes a POSIX sh script into a temporary directory and
// returns the argv that runs it (sh + path: no shell parses the config).
func writeScript(t *testing.T, body string) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "source.sh")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o700))
	return []string{"/bin/sh", path}
}

func newValue(v any) pcommon.Value {
	val := pcommon.NewValueEmpty()
	_ = val.FromRaw(v)
	return val
}

func ptr[T any](v T) *T { return &v }

// guardGauge returns an internal/guard gauge of this processor by guard name.
func (h *harness) guardGauge(t *testing.T, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return out
	}
	add := func(attrs attribute.Set, v float64) {
		if c, _ := attrs.Value("component"); c.AsString() != h.e.id.String() {
			return
		}
		g, _ := attrs.Value("guard")
		out[g.AsString()] = v
	}
	switch d := m.Data.(type) {
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			add(p.Attributes, float64(p.Value))
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			add(p.Attributes, p.Value)
		}
	}
	return out
}
