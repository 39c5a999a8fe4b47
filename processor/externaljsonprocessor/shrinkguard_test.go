package externaljsonprocessor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
)

// A source that answers an error object with HTTP 200 must not wipe the
// values: the shrink guard is on by default and refuses a response that
// lost most of the last good fields.
func TestShrinkGuardKeepsLastGoodOnErrorObject(t *testing.T) {
	srv := newStatusServer(t, `{"status":"up","traffic":"on","weight":3,"dc":{"name":"ams"}}`)
	src := httpSource("dc", srv.URL)
	src.Mapping.Prefix = "dc."
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)
	good := map[string]any{"dc.status": "up", "dc.traffic": "on", "dc.weight": int64(3), "dc.dc.name": "ams"}
	rec, _ := h.enrich(t, nil)
	require.Equal(t, good, rec)

	srv.set(func(s *statusServer) { s.body = `{"error":"x"}` }) // still HTTP 200
	h.src("dc").refresh(context.Background())
	rec, _ = h.enrich(t, nil)
	assert.Equal(t, good, rec, "the error object does not replace the last good values")
	assert.EqualValues(t, 1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"source": "dc", "reason": "shrunk"}))
	errs := h.errorLogs()
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Message, "keeping the last good values")
	assert.Equal(t, "shrunk", errs[0].ContextMap()["reason"])
	assert.Contains(t, errs[0].ContextMap()["error"], "keeps 0 of the last good 4 fields, with 1 new (lost: dc.dc.name, dc.status, dc.traffic, dc.weight)")

	// Losing half the fields is within the default (0.5): taken.
	srv.set(func(s *statusServer) { s.body = `{"status":"drain","traffic":"off"}` })
	h.src("dc").refresh(context.Background())
	rec, _ = h.enrich(t, nil)
	assert.Equal(t, map[string]any{"dc.status": "drain", "dc.traffic": "off"}, rec)
	assert.EqualValues(t, 2, h.counter(t, "otelcol_logx_externaljson_fetch_successes", map[string]string{"source": "dc"}))
}

// A response without a path the configuration requires is refused, even
// when it keeps most fields.
func TestRequiredPathMissingRefused(t *testing.T) {
	srv := newStatusServer(t, `{"dc":{"status":"up","name":"ams"},"a":1,"b":2}`)
	src := httpSource("dc", srv.URL)
	src.Guard.RequiredPaths = []string{"dc.status"}
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)
	good := map[string]any{"dc.status": "up", "dc.name": "ams", "a": int64(1), "b": int64(2)}
	rec, _ := h.enrich(t, nil)
	require.Equal(t, good, rec)

	for i, body := range []string{
		`{"dc":{"name":"ams"},"a":1,"b":2}`,               // absent
		`{"dc":{"status":null,"name":"ams"},"a":1,"b":2}`, // null
		`{"dc":"down","a":1,"b":2}`,                       // not an object on the way
		`{"dc":{"Status":"up","name":"ams"},"a":1,"b":2}`, // keys are case-sensitive
	} {
		srv.set(func(s *statusServer) { s.body = body })
		h.src("dc").refresh(context.Background())
		rec, _ = h.enrich(t, nil)
		assert.Equal(t, good, rec, body)
		assert.EqualValues(t, i+1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"source": "dc", "reason": "missing_required"}), body)
	}
	require.NotEmpty(t, h.errorLogs())
	assert.Contains(t, h.errorLogs()[0].ContextMap()["error"], `required path "dc.status" (guard.required_paths) is missing or null`)

	// The very first response is checked too: no values without the path.
	srv2 := newStatusServer(t, `{"other":1}`)
	src2 := httpSource("fresh", srv2.URL)
	src2.Guard.RequiredPaths = []string{"dc.status"}
	h2 := newHarness(t, &Config{Sources: []SourceConfig{src2}, StartupWait: 5 * time.Second})
	h2.start(t)
	rec, _ = h2.enrich(t, nil)
	assert.Empty(t, rec)
	assert.EqualValues(t, 1, h2.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"reason": "missing_required"}))
}

// max_field_loss: 1 switches the shrink check off, and the guard metrics
// say so; by default it is on.
func TestShrinkGuardSwitchedOffIsVisible(t *testing.T) {
	srv := newStatusServer(t, `{"a":1,"b":2,"c":3,"d":4}`)
	on := httpSource("on", srv.URL)
	off := httpSource("off", srv.URL)
	off.Guard.MaxFieldLoss = ptr(1.0)
	h := newHarness(t, &Config{Sources: []SourceConfig{on, off}, StartupWait: 5 * time.Second})
	h.start(t)

	assert.Equal(t, map[string]float64{
		"sources[on].guard.max_field_loss":    0,
		"sources[on].mapping.allow_reserved":  0,
		"sources[on].mapping.max_fields":      0,
		"sources[on].max_size":                0,
		"sources[off].guard.max_field_loss":   1,
		"sources[off].mapping.allow_reserved": 0,
		"sources[off].mapping.max_fields":     0,
		"sources[off].max_size":               0,
	}, h.guardGauge(t, guard.MetricDisabled))
	assert.InDelta(t, 4.0/defaultMaxFields, h.guardGauge(t, guard.MetricUtilization)["sources[on].mapping.max_fields"], 1e-9)
	assert.InDelta(t, float64(len(`{"a":1,"b":2,"c":3,"d":4}`))/defaultMaxSize, h.guardGauge(t, guard.MetricUtilization)["sources[on].max_size"], 1e-9)

	srv.set(func(s *statusServer) { s.body = `{"error":"x"}` })
	h.src("on").refresh(context.Background())
	h.src("off").refresh(context.Background())
	assert.EqualValues(t, 4, h.src("on").goodFieldCount(), "on: the 4 last good fields stay")
	assert.EqualValues(t, 1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"source": "on", "reason": "shrunk"}))
	assert.EqualValues(t, 0, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"source": "off"}))
	assert.EqualValues(t, 1, h.src("off").goodFieldCount(), "off: the error object is taken")

	// Shutdown unregisters the guards.
	require.NoError(t, h.e.shutdown(context.Background()))
	assert.Empty(t, h.guardGauge(t, guard.MetricDisabled))
}

// Persisted values are the baseline after a restart: a source that answers
// an error object while the collector restarts does not wipe them either.
func TestShrinkGuardAfterRestartWithPersistedValues(t *testing.T) {
	dir := t.TempDir()
	srv := newStatusServer(t, `{"status":"up","traffic":"on","weight":3}`)
	cfg := &Config{Sources: []SourceConfig{httpSource("dc", srv.URL)}, StartupWait: 5 * time.Second, Persistence: PersistenceConfig{Directory: dir}}
	first := newHarness(t, cfg)
	first.start(t)
	require.NoError(t, first.e.shutdown(context.Background()))

	srv.set(func(s *statusServer) { s.body = `{"error":"maintenance"}` })
	second := newHarness(t, cfg)
	second.start(t)
	rec, _ := second.enrich(t, nil)
	assert.Equal(t, map[string]any{"status": "up", "traffic": "on", "weight": int64(3)}, rec)
	assert.EqualValues(t, 1, second.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"reason": "shrunk"}))
}

func TestShrinkRefusalArithmetic(t *testing.T) {
	mk := func(keys ...string) []field {
		out := make([]field, len(keys))
		for i, k := range keys {
			out[i] = newField(k, newValue(1), policyUpsert)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		good, got []field
		maxLoss   float64
		refused   bool
	}{
		{"no last good values", nil, mk("x"), 0.5, false},
		{"same keys", mk("a", "b"), mk("a", "b"), 0, false},
		{"more keys", mk("a"), mk("a", "b", "c"), 0, false},
		{"half lost, at the limit", mk("a", "b", "c", "d"), mk("a", "b"), 0.5, false},
		{"three of four lost", mk("a", "b", "c", "d"), mk("a"), 0.5, true},
		{"all renamed, same count", mk("a", "b"), mk("x", "y"), 0.5, true},
		{"one of one lost", mk("a"), mk("b"), 0.5, true},
		{"any loss refused at 0", mk("a", "b", "c"), mk("a", "b"), 0, true},
		{"a key twice counts once", mk("a", "a", "b"), mk("a"), 0.5, false},
		{"0.29 of 100 allows 29", mk(numbered(100)...), mk(numbered(71)...), 0.29, false},
		{"0.29 of 100 refuses 30", mk(numbered(100)...), mk(numbered(70)...), 0.29, true},
	} {
		ferr := shrinkRefusal(tc.good, tc.got, tc.maxLoss)
		if tc.refused {
			require.NotNil(t, ferr, tc.name)
			assert.Equal(t, reasonShrunk, ferr.reason, tc.name)
		} else {
			assert.Nil(t, ferr, tc.name)
		}
	}
}

// numbered returns the keys k0 .. k(n-1).
func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("k%d", i)
	}
	return out
}
