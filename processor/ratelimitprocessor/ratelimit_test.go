package ratelimitprocessor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

func TestRateAndBurstExact(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 20
	tt := componenttest.NewTelemetry()
	p, _ := newTestLimiter(t, cfg, clk, tt.NewTelemetrySettings())

	steps := []struct {
		advance time.Duration
		want    int
	}{
		{0, 20},                     // the burst
		{time.Second, 10},           // one second of rate
		{250 * time.Millisecond, 2}, // 2.5 tokens: two records, half a token kept
		{250 * time.Millisecond, 3}, // 0.5 + 2.5
		{100 * time.Millisecond, 1}, // 1 token
		{50 * time.Millisecond, 0},  // half a token
		{10 * time.Second, 20},      // refilled, capped at the burst
		{5 * time.Second, 20},       // 50 tokens earned, 20 kept
		{-5 * time.Second, 0},       // time running backwards earns nothing
		{5*time.Second + 100*time.Millisecond, 1},
	}
	total := 0
	for i, s := range steps {
		clk.Advance(s.advance)
		got := passed(t, p, svc("noisy", 100))["noisy"]
		assert.Equal(t, s.want, got, "step %d", i)
		total += got
	}
	p.report.flushMetrics(context.Background())
	assert.Equal(t, map[string]map[string]int64{"noisy": {"rate": int64(len(steps)*100 - total)}}, droppedByKey(t, tt))
}

func TestFractionalRate(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 0.5, 1
	p, _ := newTestLimiter(t, cfg, clk, nopTelemetry())
	var got []int
	for range 6 {
		got = append(got, passed(t, p, svc("slow", 3))["slow"])
		clk.Advance(time.Second)
	}
	assert.Equal(t, []int{1, 0, 1, 0, 1, 0}, got)
}

func TestOverridesExact(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	cfg.Overrides = []OverrideConfig{{Key: "vip", Rate: 100, Burst: 50}, {Key: "_default", Rate: 1, Burst: 2}}
	p, _ := newTestLimiter(t, cfg, clk, nopTelemetry())

	batch := append(append(svc("noisy", 200), svc("vip", 200)...), svc("", 200)...)
	assert.Equal(t, map[string]int{"noisy": 5, "vip": 50, "": 2}, passed(t, p, batch))
	clk.Advance(time.Second)
	// One second earns rate tokens, but a bucket never holds more than burst.
	assert.Equal(t, map[string]int{"noisy": 5, "vip": 50, "": 1}, passed(t, p, batch))
	clk.Advance(200 * time.Millisecond)
	assert.Equal(t, map[string]int{"noisy": 2, "vip": 20}, passed(t, p, batch))
}

func countBySeverity(ld plog.Logs) map[plog.SeverityNumber]int {
	out := map[plog.SeverityNumber]int{}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				out[lrs.At(k).SeverityNumber()]++
			}
		}
	}
	return out
}

func mixed(n int, sevs ...plog.SeverityNumber) []rec {
	var out []rec
	for range n {
		for _, s := range sevs {
			out = append(out, rec{service: "app", severity: s})
		}
	}
	return out
}

func TestSeverityExemptNeverDropsAndCostsNothing(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	cfg.Severity = SeverityConfig{Threshold: "ERROR", Mode: severityModeExempt}
	tt := componenttest.NewTelemetry()
	p, _ := newTestLimiter(t, cfg, clk, tt.NewTelemetrySettings())

	// Severe records first: they must not use up the budget of the rest.
	out, err := p.processLogs(context.Background(), buildLogs(mixed(100, plog.SeverityNumberError, plog.SeverityNumberFatal)))
	require.NoError(t, err)
	assert.Equal(t, map[plog.SeverityNumber]int{plog.SeverityNumberError: 100, plog.SeverityNumberFatal: 100}, countBySeverity(out))

	out, err = p.processLogs(context.Background(), buildLogs(mixed(100, plog.SeverityNumberInfo, plog.SeverityNumberWarn4, plog.SeverityNumberError, plog.SeverityNumberUnspecified)))
	require.NoError(t, err)
	got := countBySeverity(out)
	assert.Equal(t, 100, got[plog.SeverityNumberError])
	assert.Equal(t, 5, got[plog.SeverityNumberInfo]+got[plog.SeverityNumberWarn4]+got[plog.SeverityNumberUnspecified], "below ERROR shares the burst")

	m, err := tt.GetMetric("otelcol_logx_ratelimit_records_exempt")
	require.NoError(t, err)
	assert.EqualValues(t, 300, sumInt(m.Data))
}

func TestSeverityBudgetExact(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	cfg.Severity = SeverityConfig{Threshold: "warn", Mode: severityModeBudget, Rate: 2, Burst: 3}
	tt := componenttest.NewTelemetry()
	p, _ := newTestLimiter(t, cfg, clk, tt.NewTelemetrySettings())

	batch := buildLogs(mixed(100, plog.SeverityNumberInfo, plog.SeverityNumberWarn))
	out, err := p.processLogs(context.Background(), batch)
	require.NoError(t, err)
	assert.Equal(t, map[plog.SeverityNumber]int{plog.SeverityNumberInfo: 5, plog.SeverityNumberWarn: 3}, countBySeverity(out))
	clk.Advance(time.Second)
	out, err = p.processLogs(context.Background(), buildLogs(mixed(100, plog.SeverityNumberInfo, plog.SeverityNumberWarn)))
	require.NoError(t, err)
	assert.Equal(t, map[plog.SeverityNumber]int{plog.SeverityNumberInfo: 5, plog.SeverityNumberWarn: 2}, countBySeverity(out))

	p.report.flushMetrics(context.Background())
	assert.Equal(t, map[string]map[string]int64{"app": {"rate": 190, "severity_rate": 195}}, droppedByKey(t, tt))
}

func TestBytesLimitExact(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 1000, 1000
	cfg.Bytes = BytesConfig{Rate: 100, Burst: 200}
	tt := componenttest.NewTelemetry()
	p, _ := newTestLimiter(t, cfg, clk, tt.NewTelemetrySettings())

	fifty := strings.Repeat("x", 50)
	batch := func(n int, body string) []rec {
		out := make([]rec, n)
		for i := range out {
			out[i] = rec{service: "chatty", body: body}
		}
		return out
	}
	assert.Equal(t, 4, passed(t, p, batch(10, fifty))["chatty"])
	clk.Advance(time.Second)
	assert.Equal(t, 2, passed(t, p, batch(10, fifty))["chatty"])
	// A record bigger than the burst passes once the bucket is full, and
	// empties it.
	clk.Advance(10 * time.Second)
	assert.Equal(t, 1, passed(t, p, append(batch(1, strings.Repeat("y", 500)), batch(3, fifty)...))["chatty"])

	p.report.flushMetrics(context.Background())
	assert.Equal(t, map[string]map[string]int64{"chatty": {"bytes": 6 + 8 + 3}}, droppedByKey(t, tt))
}

func TestKeyFromResourceBodyAndSeveralFields(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 1, 2
	cfg.Key.Fields = []FieldConfig{{From: fromResource, Name: logattr.HostName}, {From: fromBody, Name: "svc"}}
	cfg.Overrides = []OverrideConfig{{Values: []string{"h1", "big"}, Rate: 1, Burst: 7}}
	p, _ := newTestLimiter(t, cfg, clk, nopTelemetry())

	ld := plog.NewLogs()
	add := func(host string, body func(plog.LogRecord), n int) {
		rl := ld.ResourceLogs().AppendEmpty()
		if host != "" {
			rl.Resource().Attributes().PutStr(logattr.HostName, host)
		}
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for range n {
			lr := lrs.AppendEmpty()
			body(lr)
			lr.Attributes().PutStr("case", host+"/"+lr.Body().AsString())
		}
	}
	mapBody := func(svc any) func(plog.LogRecord) {
		return func(lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			switch v := svc.(type) {
			case string:
				m.PutStr("svc", v)
			case int:
				m.PutInt("svc", int64(v))
			}
		}
	}
	add("h1", mapBody("a"), 10)          // key h1|a
	add("h2", mapBody("a"), 10)          // key h2|a: another bucket
	add("h1", mapBody(42), 10)           // integer value: key h1|42
	add("h1", mapBody("big"), 10)        // override: burst 7
	add("", func(plog.LogRecord) {}, 10) // neither field: default bucket
	add("", mapBody("a"), 10)            // only one field: key |a, its own bucket

	out, err := p.processLogs(context.Background(), ld)
	require.NoError(t, err)
	got := map[string]int{}
	for _, lr := range testutil.LogRecords([]plog.Logs{out}) {
		v, _ := lr.Attributes().Get("case")
		got[v.Str()]++
	}
	assert.Equal(t, map[string]int{
		`h1/{"svc":"a"}`: 2, `h2/{"svc":"a"}`: 2, `h1/{"svc":42}`: 2,
		`h1/{"svc":"big"}`: 7, "/": 2, `/{"svc":"a"}`: 2,
	}, got)
	assert.EqualValues(t, 6, p.table.len())
}

func TestKeyTableBoundAndOverflow(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	cfg.MaxKeys = 10
	cfg.Overflow = LimitConfig{Rate: 1, Burst: 5}
	tt := componenttest.NewTelemetry()
	p, _ := newTestLimiter(t, cfg, clk, tt.NewTelemetrySettings())

	var batch []rec
	for i := range 100 {
		batch = append(batch, svc(fmt.Sprintf("k%03d", i), 3)...)
	}
	got := passed(t, p, batch)
	total := 0
	for i := range 10 {
		assert.Equal(t, 3, got[fmt.Sprintf("k%03d", i)], "the first keys have their own buckets")
		total += got[fmt.Sprintf("k%03d", i)]
	}
	rest := 0
	for _, n := range got {
		rest += n
	}
	assert.Equal(t, 5, rest-total, "the other 90 keys share the overflow burst")
	assert.EqualValues(t, 10, p.table.len())

	// However many new keys arrive, the table does not grow.
	for round := range 20 {
		var flood []rec
		for i := range 5000 {
			flood = append(flood, rec{service: fmt.Sprintf("flood-%d-%d", round, i)})
		}
		passed(t, p, flood)
	}
	assert.EqualValues(t, 10, p.table.len())
	m, err := tt.GetMetric("otelcol_logx_ratelimit_records_overflow")
	require.NoError(t, err)
	assert.EqualValues(t, 90*3+20*5000, sumInt(m.Data))
	p.report.flushMetrics(context.Background())
	assert.EqualValues(t, 90*3+20*5000-5, droppedByKey(t, tt)[overflowKeyLabel]["rate"])
}

func TestEvictionOfIdleKeys(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	cfg.MaxKeys = 10
	cfg.IdleTimeout = time.Minute
	cfg.Overflow = LimitConfig{Rate: 1, Burst: 5}
	cfg.Overrides = []OverrideConfig{{Key: "slowfill", Rate: 0.001, Burst: 5}}
	tt := componenttest.NewTelemetry()
	p, _ := newTestLimiter(t, cfg, clk, tt.NewTelemetrySettings())

	var batch []rec
	for i := range 8 {
		batch = append(batch, rec{service: fmt.Sprintf("k%d", i)})
	}
	batch = append(batch, svc("dropper", 6)...) // one drop: must be reported before it can go
	batch = append(batch, rec{service: "slowfill"})
	passed(t, p, batch)
	assert.EqualValues(t, 10, p.table.len())
	assert.Equal(t, 5, passed(t, p, svc("newcomer", 6))["newcomer"], "full table: newcomer shares the overflow bucket (burst 5)")

	clk.Advance(30 * time.Second)
	assert.Equal(t, 0, p.sweep(context.Background()), "not idle for long enough")

	clk.Advance(31 * time.Second)
	assert.Equal(t, 8, p.sweep(context.Background()), "k0..k7 are idle and full; dropper has unreported drops; slowfill's bucket is not full")
	assert.EqualValues(t, 2, p.table.len())

	p.report.flushMetrics(context.Background())
	assert.Equal(t, 0, p.sweep(context.Background()), "dropper still has a summary pending")
	p.report.emitSummaries(context.Background())
	assert.Equal(t, 1, p.sweep(context.Background()), "dropper, reported, goes")
	assert.EqualValues(t, 1, p.table.len())

	// Room again: new keys get their own bucket; an evicted key comes back
	// with a full bucket, which is what it had.
	assert.Equal(t, map[string]int{"newcomer": 5, "k0": 5}, passed(t, p, append(svc("newcomer", 9), svc("k0", 9)...)))
	m, err := tt.GetMetric("otelcol_logx_ratelimit_keys_evicted")
	require.NoError(t, err)
	assert.EqualValues(t, 9, sumInt(m.Data))
}

func TestDryRunCountsButKeepsEverything(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	cfg.DryRun = true
	tt := componenttest.NewTelemetry()
	p, sink := newTestLimiter(t, cfg, clk, tt.NewTelemetrySettings())

	assert.Equal(t, 100, passed(t, p, svc("noisy", 100))["noisy"])
	clk.Advance(time.Second)
	assert.Equal(t, 100, passed(t, p, svc("noisy", 100))["noisy"])
	p.report.flushMetrics(context.Background())
	assert.Equal(t, map[string]map[string]int64{"noisy": {"rate": 200 - 5 - 5}}, droppedByKey(t, tt))
	m, err := tt.GetMetric("otelcol_logx_ratelimit_records_dropped")
	require.NoError(t, err)
	for _, dp := range sumDataPoints(m.Data) {
		v, ok := dp.Attributes.Value("dry_run")
		require.True(t, ok)
		assert.True(t, v.AsBool())
	}
	// dry_run declares it does not mutate, so it may get read-only data.
	ro := buildLogs(svc("noisy", 3))
	ro.MarkReadOnly()
	_, err = p.processLogs(context.Background(), ro)
	require.NoError(t, err)
	p.report.flushMetrics(context.Background())
	assert.Equal(t, map[string]map[string]int64{"noisy": {"rate": 193}}, droppedByKey(t, tt))

	p.report.emitSummaries(context.Background())
	require.Equal(t, 1, sink.LogRecordCount())
	body := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str()
	assert.Contains(t, body, "193 records would have been dropped (dry_run) for logx.service=noisy")
}

func TestMetricsKeyCardinalityIsBounded(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	cfg.Metrics.TopKeys = 3
	tt := componenttest.NewTelemetry()
	p, _ := newTestLimiter(t, cfg, clk, tt.NewTelemetrySettings())

	var batch []rec
	for i := range 10 {
		batch = append(batch, svc(fmt.Sprintf("k%d", i), 10+i)...) // k_i drops 5+i
	}
	passed(t, p, batch)
	p.report.flushMetrics(context.Background())
	assert.Equal(t, map[string]map[string]int64{
		"k9": {"rate": 14}, "k8": {"rate": 13}, "k7": {"rate": 12},
		"other": {"rate": 5 + 6 + 7 + 8 + 9 + 10 + 11},
	}, droppedByKey(t, tt))

	// A new heavy dropper later cannot add a series: the labelled set is full.
	passed(t, p, append(svc("k0", 1000), svc("newheavy", 1000)...))
	p.report.flushMetrics(context.Background())
	got := droppedByKey(t, tt)
	assert.Len(t, got, 4)
	assert.EqualValues(t, 56+1000+995, got["other"]["rate"])
}

func TestSummaryIntoPipeline(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	cfg.Summary.MaxRecords = 3
	p, sink := newTestLimiter(t, cfg, clk, nopTelemetry())

	var batch []rec
	for i := range 10 {
		batch = append(batch, svc(fmt.Sprintf("k%d", i), 10+i)...)
	}
	passed(t, p, batch)
	clk.Advance(time.Minute)
	p.report.emitSummaries(context.Background())
	require.Equal(t, 3, sink.LogRecordCount())
	type sum struct {
		service, key, body string
		dropped            int64
	}
	var got []sum
	for _, lr := range testutil.LogRecords(sink.AllLogs()) {
		assert.Equal(t, plog.SeverityNumberWarn, lr.SeverityNumber())
		s, _ := lr.Attributes().Get(logattr.Service)
		k, _ := lr.Attributes().Get(attrSummaryKey)
		d, _ := lr.Attributes().Get(attrSummaryDropped)
		got = append(got, sum{s.Str(), k.Str(), lr.Body().Str(), d.Int()})
	}
	assert.Equal(t, []sum{
		{"k9", "k9", "14 records dropped for logx.service=k9 in the last 1m0s (limit 10 records/s, burst 5)", 14},
		{"k8", "k8", "13 records dropped for logx.service=k8 in the last 1m0s (limit 10 records/s, burst 5)", 13},
		{"", "8 other keys", "68 records dropped for 8 other keys in the last 1m0s", 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12},
	}, got)

	// Nothing new dropped: nothing to say.
	p.report.emitSummaries(context.Background())
	assert.Equal(t, 3, sink.LogRecordCount())
}

func sumInt(d any) int64 {
	var n int64
	for _, dp := range sumDataPoints(d) {
		n += dp.Value
	}
	return n
}

func TestSummaryToLogger(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	cfg.Summary.Destination = summaryToLogger
	core, logs := observer.New(zap.InfoLevel)
	set := nopTelemetry()
	set.Logger = zap.New(core)
	p, sink := newTestLimiter(t, cfg, clk, set)

	passed(t, p, svc("noisy", 12))
	clk.Advance(30 * time.Second)
	p.report.emitSummaries(context.Background())
	assert.Zero(t, sink.LogRecordCount(), "nothing into the pipeline")
	entries := logs.FilterMessageSnippet("7 records dropped for logx.service=noisy in the last 30s").All()
	require.Len(t, entries, 1)
	assert.Equal(t, zap.WarnLevel, entries[0].Level)
	assert.EqualValues(t, 7, entries[0].ContextMap()["dropped"])
}

func TestSummariesOffEmitNothing(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	cfg.Summary.Enabled = false
	p, sink := newTestLimiter(t, cfg, clk, nopTelemetry())
	passed(t, p, svc("noisy", 12))
	require.NoError(t, p.shutdown(context.Background()))
	assert.Zero(t, sink.LogRecordCount())
}

func TestSummaryRefusedIsCounted(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 5
	tt := componenttest.NewTelemetry()
	p, err := newRateLimiter(cfg, tt.NewTelemetrySettings(), consumertest.NewErr(errors.New("down")), clk)
	require.NoError(t, err)
	passed(t, p, append(svc("a", 6), svc("b", 6)...))
	require.NoError(t, p.shutdown(context.Background()))
	m, err := tt.GetMetric("otelcol_logx_ratelimit_summary_records_dropped")
	require.NoError(t, err)
	assert.EqualValues(t, 2, sumInt(m.Data))
}
