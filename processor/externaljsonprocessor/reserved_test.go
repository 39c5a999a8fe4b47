package externaljsonprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With an empty prefix a source could overwrite the identity other
// components key on; reserved names in a response are skipped and counted.
func TestReservedKeysInResponseSkipped(t *testing.T) {
	srv := newStatusServer(t, `{"site":"ams","logx.service":"evil","logx":{"tenant":"other"},"cfjs1.format":"fake","host.name":"h"}`)
	src := httpSource("dc", srv.URL)
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)

	own := map[string]any{"logx.service": "nginx", "logx.tenant": "t1", "cfjs1.format": "access"}
	rec, _ := h.enrich(t, own)
	assert.Equal(t, map[string]any{"logx.service": "nginx", "logx.tenant": "t1", "cfjs1.format": "access", "site": "ams"}, rec)
	rec, _ = h.enrich(t, nil)
	assert.Equal(t, map[string]any{"site": "ams"}, rec, "reserved names are not inserted either")
	assert.EqualValues(t, 4, h.counter(t, "otelcol_logx_externaljson_fields_skipped", map[string]string{"source": "dc", "reason": "reserved"}))
	warns := h.logs.FilterMessageSnippet("reserved").All()
	require.Len(t, warns, 1)
	assert.Equal(t, []any{"cfjs1.format", "host.name", "logx.service", "logx.tenant"}, warns[0].ContextMap()["skipped"])

	// The same keys again: counted again, not logged again.
	h.src("dc").refresh(context.Background())
	assert.EqualValues(t, 8, h.counter(t, "otelcol_logx_externaljson_fields_skipped", map[string]string{"source": "dc", "reason": "reserved"}))
	assert.Len(t, h.logs.FilterMessageSnippet("reserved").All(), 1)
}
