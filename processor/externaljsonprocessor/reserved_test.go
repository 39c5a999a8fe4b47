package externaljsonprocessor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
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

// A source meant to set a reserved name (a tenant directory) may, when the
// configuration names it; the guard metrics show the relaxation.
func TestAllowReservedWritesNamedOnly(t *testing.T) {
	srv := newStatusServer(t, `{"tenant":"blue","service":"evil","site":"ams"}`)
	src := httpSource("tenants", srv.URL)
	src.Mapping.Fields = []FieldConfig{{Path: "tenant", Key: "logx.tenant"}, {Path: "site"}}
	src.Mapping.AllowReserved = []string{"logx.tenant"}
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)
	rec, _ := h.enrich(t, map[string]any{"logx.service": "nginx"})
	assert.Equal(t, map[string]any{"logx.service": "nginx", "logx.tenant": "blue", "site": "ams"}, rec)
	assert.Equal(t, 1.0, h.guardGauge(t, guard.MetricDisabled)["sources[tenants].mapping.allow_reserved"])

	// Allowing one name allows no other.
	whole := httpSource("whole", srv.URL)
	whole.Mapping.AllowReserved = []string{"logx.tenant"}
	srv.set(func(s *statusServer) { s.body = `{"logx":{"tenant":"blue","service":"evil"},"site":"ams"}` })
	h2 := newHarness(t, &Config{Sources: []SourceConfig{whole}, StartupWait: 5 * time.Second})
	h2.start(t)
	rec, _ = h2.enrich(t, nil)
	assert.Equal(t, map[string]any{"logx.tenant": "blue", "site": "ams"}, rec)
	assert.EqualValues(t, 1, h2.counter(t, "otelcol_logx_externaljson_fields_skipped", map[string]string{"reason": "reserved"}))
}

// A response with nothing but reserved names yields no fields: refused,
// the last good values stay.
func TestResponseOfOnlyReservedNamesRefused(t *testing.T) {
	srv := newStatusServer(t, `{"site":"ams"}`)
	h := newHarness(t, &Config{Sources: []SourceConfig{httpSource("dc", srv.URL)}, StartupWait: 5 * time.Second})
	h.start(t)
	srv.set(func(s *statusServer) { s.body = `{"logx.service":"evil"}` })
	h.src("dc").refresh(context.Background())
	rec, _ := h.enrich(t, nil)
	assert.Equal(t, map[string]any{"site": "ams"}, rec)
	assert.EqualValues(t, 1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"reason": reasonNoFields}))
	assert.EqualValues(t, 0, h.counter(t, "otelcol_logx_externaljson_fields_skipped", nil), "a refused response drops as a whole: counted once, as a failure")
}

// Every attribute the distribution's components agree on is reserved, and
// the namespaces are owned whole.
func TestReservedSetCoversSharedAttributes(t *testing.T) {
	for _, name := range []string{
		logattr.Service, logattr.Tenant, logattr.CFJS1Format, logattr.CFJS1DeadLetterFor,
		logattr.HostName, logattr.SyslogFacility, logattr.SyslogHostname, logattr.SyslogAppName,
		logattr.SyslogProcID, logattr.SyslogMsgID, logattr.SyslogVersion, logattr.SyslogSDPrefix + "origin.ip",
		logattr.SyslogSDTruncated, logattr.PeerPID, logattr.PeerUID, logattr.PeerGID, logattr.SystemdUnit,
		"logx.anything.new", "cfjs1.x",
	} {
		assert.True(t, isReserved(name), name)
	}
	for _, name := range []string{"logx", "logxservice", "site.logx.service", "host", "host.id", "peer.address", "externaljson.stale", "dc.status"} {
		assert.False(t, isReserved(name), name)
	}
}

func TestValidateAllowReserved(t *testing.T) {
	require.NoError(t, confmap.Validate(loadConfig(t, "reserved_allowed")))

	m := MappingConfig{AllowReserved: []string{"site", "logx.tenant"}}
	err := m.Validate()
	require.ErrorContains(t, err, `allow_reserved: "site" is not a reserved name; remove it (reserved: logx.*, cfjs1.*, syslog.*, host.name, peer.pid, peer.uid, peer.gid, systemd.unit, systemd.user_unit)`)
	assert.NotContains(t, err.Error(), `"logx.tenant" is not`)

	// A reserved prefix with chosen fields: each one needs allowing.
	m = MappingConfig{Prefix: "logx.", Fields: []FieldConfig{{Path: "tenant"}, {Path: "zone"}}, AllowReserved: []string{"logx.tenant"}}
	err = m.Validate()
	require.ErrorContains(t, err, `fields[1]: attribute "logx.zone" is reserved (other components key on it); write a prefix of your own (e.g. "dc."), or, if this source is meant to set it, allow_reserved: ["logx.zone"]`)
	assert.NotContains(t, err.Error(), "logx.tenant")
}

// Many reserved names are all counted; the log names the first few only.
func TestManyReservedNamesCountedLogBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"site":"ams","logx":{`)
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%03d":1`, i)
	}
	b.WriteString(`}}`)
	srv := newStatusServer(t, b.String())
	h := newHarness(t, &Config{Sources: []SourceConfig{httpSource("dc", srv.URL)}, StartupWait: 5 * time.Second})
	h.start(t)
	rec, _ := h.enrich(t, nil)
	assert.Equal(t, map[string]any{"site": "ams"}, rec, "100 skipped names do not count toward max_fields (64)")
	assert.EqualValues(t, 100, h.counter(t, "otelcol_logx_externaljson_fields_skipped", map[string]string{"reason": "reserved"}))
	warns := h.logs.FilterMessageSnippet("reserved").All()
	require.Len(t, warns, 1)
	assert.Len(t, warns[0].ContextMap()["skipped"], maxSkippedNamed)
	assert.EqualValues(t, 100, warns[0].ContextMap()["skipped_count"])
}
