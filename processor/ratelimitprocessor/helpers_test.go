package ratelimitprocessor

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// fakeClock is a Clock that moves only when told to; safe for concurrent use.
type fakeClock struct{ ns atomic.Int64 }

var fakeEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *fakeClock) Now() time.Time             { return fakeEpoch.Add(time.Duration(c.ns.Load())) }
func (c *fakeClock) Advance(d time.Duration)    { c.ns.Add(int64(d)) }
func newFakeClock() *fakeClock                  { return &fakeClock{} }
func defaultConfig() *Config                    { return createDefaultConfig().(*Config) }
func nopTelemetry() component.TelemetrySettings { return componenttest.NewNopTelemetrySettings() }

// rec describes one log record to build.
type rec struct {
	service  string // logx.service; "" leaves it out
	severity plog.SeverityNumber
	body     string
}

func svc(name string, n int) []rec {
	out := make([]rec, n)
	for i := range out {
		out[i] = rec{service: name}
	}
	return out
}

func buildLogs(recs []rec) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, r := range recs {
		lr := lrs.AppendEmpty()
		if r.service != "" {
			lr.Attributes().PutStr(logattr.Service, r.service)
		}
		lr.SetSeverityNumber(r.severity)
		lr.Body().SetStr(r.body)
	}
	return ld
}

// countByService counts the records of ld per logx.service ("" for none).
func countByService(ld plog.Logs) map[string]int {
	out := map[string]int{}
	for _, lr := range testutil.LogRecords([]plog.Logs{ld}) {
		v, _ := lr.Attributes().Get(logattr.Service)
		out[v.Str()]++
	}
	return out
}

// newTestLimiter makes a limiter on a fake clock with a sink as next consumer.
func newTestLimiter(t testing.TB, cfg *Config, clk Clock, set component.TelemetrySettings) (*rateLimiter, *consumertest.LogsSink) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	sink := &consumertest.LogsSink{}
	p, err := newRateLimiter(cfg, set, sink, clk)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	return p, sink
}

// passed runs a batch through the limiter and returns what passed per service.
// The concurrency tests call it from their own goroutines: it fails the test
// with assert (t.Errorf), never with FailNow, which must not run there.
func passed(t testing.TB, p *rateLimiter, recs []rec) map[string]int {
	t.Helper()
	out, err := p.processLogs(context.Background(), buildLogs(recs))
	if errors.Is(err, processorhelper.ErrSkipProcessingData) {
		return map[string]int{}
	}
	if !assert.NoError(t, err) { //nolint:testifylint // called from test goroutines, where FailNow must not run
		return map[string]int{}
	}
	return countByService(out)
}

// droppedByKey reads the drop counter: key -> reason -> count.
func droppedByKey(t testing.TB, tt *componenttest.Telemetry) map[string]map[string]int64 {
	t.Helper()
	out := map[string]map[string]int64{}
	m, err := tt.GetMetric("otelcol_logx_ratelimit_records_dropped")
	if err != nil {
		return out
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		k, _ := dp.Attributes.Value("key")
		r, _ := dp.Attributes.Value("reason")
		if out[k.AsString()] == nil {
			out[k.AsString()] = map[string]int64{}
		}
		out[k.AsString()][r.AsString()] += dp.Value
	}
	return out
}

var _ consumer.Logs = (*consumertest.LogsSink)(nil)

func sumDataPoints(d any) []metricdata.DataPoint[int64] {
	if s, ok := d.(metricdata.Sum[int64]); ok {
		return s.DataPoints
	}
	return nil
}

// has reports whether key is in the table (not counting the overflow).
func (t *table) has(key string) bool {
	s, tag := t.locate(t.hash(key))
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.find(tag, key) >= 0
}
