package externaljsonprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func TestStalePolicyAfterMaxAge(t *testing.T) {
	for _, tc := range []struct {
		policy string
		stale  map[string]any
	}{
		{staleKeep, map[string]any{"dc.status": "up"}},
		{staleRemove, map[string]any{}},
		{staleMark, map[string]any{"dc.status": "up", "dc_stale": true}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			srv := newStatusServer(t, `{"status":"up"}`)
			clock := newFakeClock()
			src := httpSource("dc", srv.URL)
			src.Interval, src.MaxAge, src.StalePolicy, src.StaleAttribute = time.Minute, 5*time.Minute, tc.policy, "dc_stale"
			src.Mapping.Prefix = "dc."
			h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
			h.e.now = clock.Now
			h.start(t)
			s := h.src("dc")

			// The source fails; until max_age the values are simply kept.
			srv.set(func(s *statusServer) { s.status = 503 })
			clock.Advance(5 * time.Minute)
			s.refresh(context.Background())
			rec, _ := h.enrich(t, nil)
			assert.Equal(t, map[string]any{"dc.status": "up"}, rec, "at max_age exactly: not stale yet")

			// Past max_age: the stale policy applies.
			clock.Advance(time.Second)
			s.refresh(context.Background())
			rec, _ = h.enrich(t, nil)
			assert.Equal(t, tc.stale, rec)
			assert.Len(t, h.logs.FilterMessageSnippet("older than max_age").All(), 1)

			// Also without a fetch (the loop's stale timer calls evaluateStale):
			// nothing changes twice.
			assert.False(t, s.evaluateStale(clock.Now()))

			// The source recovers: fresh values, no stale mark.
			srv.set(func(s *statusServer) { s.status, s.body = 200, `{"status":"back"}` })
			s.refresh(context.Background())
			rec, _ = h.enrich(t, nil)
			assert.Equal(t, map[string]any{"dc.status": "back"}, rec)
		})
	}
}

// The loop itself applies the stale policy at max_age, even when no fetch
// completes in between (a fetch that hangs until its timeout).
func TestLoopMarksStaleWithoutWaitingForAFetch(t *testing.T) {
	srv := newStatusServer(t, `{"status":"up"}`)
	src := httpSource("dc", srv.URL)
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	// Bypass Validate's max_age >= interval rule to put the stale deadline
	// between two fetches.
	h.e.sources[0].cfg.MaxAge = 50 * time.Millisecond
	h.start(t)
	rec, _ := h.enrich(t, nil)
	require.Equal(t, "up", rec["status"])
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, _ = h.enrich(t, nil)
		if rec[defaultStaleAttribute] == true {
			break
		}
		require.True(t, time.Now().Before(deadline), "not marked stale within 10s")
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
	assert.Equal(t, "up", rec["status"], "mark keeps the values")
	reqs, _, _ := srv.stats()
	assert.Equal(t, 1, reqs, "no fetch in between: the stale timer did it")
}

func TestValuesAgeGauge(t *testing.T) {
	srv := newStatusServer(t, `{"status":"up"}`)
	clock := newFakeClock()
	h := newHarness(t, &Config{Sources: []SourceConfig{httpSource("dc", srv.URL)}, StartupWait: 5 * time.Second})
	h.e.now = clock.Now
	h.start(t)
	srv.set(func(s *statusServer) { s.status = 500 })
	clock.Advance(90 * time.Second)
	h.src("dc").refresh(context.Background())

	m, err := h.tel.GetMetric("otelcol_logx_externaljson_values_age")
	require.NoError(t, err)
	pts := m.Data.(metricdata.Gauge[float64]).DataPoints
	require.Len(t, pts, 1)
	assert.InDelta(t, 90.0, pts[0].Value, 0.001)
	v, _ := pts[0].Attributes.Value("source")
	assert.Equal(t, "dc", v.AsString())
}
