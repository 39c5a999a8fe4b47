package externaljsonprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	assert.Contains(t, errs[0].ContextMap()["error"], "keeps 0 of the last good 4 fields and has 1 others (lost: dc.dc.name, dc.status, dc.traffic, dc.weight)")

	// Losing half the fields is within the default (0.5): taken.
	srv.set(func(s *statusServer) { s.body = `{"status":"drain","traffic":"off"}` })
	h.src("dc").refresh(context.Background())
	rec, _ = h.enrich(t, nil)
	assert.Equal(t, map[string]any{"dc.status": "drain", "dc.traffic": "off"}, rec)
	assert.EqualValues(t, 2, h.counter(t, "otelcol_logx_externaljson_fetch_successes", map[string]string{"source": "dc"}))
}
