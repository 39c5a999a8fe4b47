package logfileexporter

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenLogs is the input of every golden file: plain, multi-line and
// special-character bodies, a map body, syslog header and SD attributes.
func goldenLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(logattr.HostName, "host-a")
	rl.Resource().Attributes().PutStr("dc", "ams01")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("logx/journal")
	sl.Scope().SetVersion("1.0")
	ts := time.Date(2026, 11, 22, 10, 11, 12, 345678901, time.UTC)

	r := sl.LogRecords().AppendEmpty()
	r.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	r.SetSeverityNumber(plog.SeverityNumberWarn)
	r.SetSeverityText("WARNING")
	r.Body().SetStr("upstream timed out (110: Connection timed out)")
	r.Attributes().PutStr(logattr.Service, "nginx")
	r.Attributes().PutInt(logattr.SyslogFacility, 3)
	r.Attributes().PutInt(logattr.SyslogProcID, 811)
	r.Attributes().PutStr(logattr.CFJS1Format, "access")

	r = sl.LogRecords().AppendEmpty()
	r.SetTimestamp(pcommon.NewTimestampFromTime(ts.Add(time.Millisecond)))
	r.SetSeverityNumber(plog.SeverityNumberError)
	r.Body().SetStr("panic: boom\n\tat main.go:12\r\npath C:\\tmp \"quoted\" ]")
	r.Attributes().PutStr(logattr.Service, "billing")
	r.Attributes().PutStr(logattr.SyslogAppName, "billing-api")
	r.Attributes().PutStr(logattr.SyslogMsgID, "TX")
	r.Attributes().PutStr("syslog.sd.meta.sequenceId", "7")
	r.Attributes().PutStr("syslog.sd.origin@32473.note", `a "b" \c ]d`)
	r.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	r.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})

	r = sl.LogRecords().AppendEmpty()
	r.SetObservedTimestamp(pcommon.NewTimestampFromTime(ts.Add(2 * time.Millisecond)))
	m := r.Body().SetEmptyMap()
	m.PutStr("msg", "structured")
	m.PutInt("n", 3)
	m.PutEmptySlice("tags").AppendEmpty().SetStr("x")
	r.Attributes().PutStr(logattr.Service, "nginx")
	r.Attributes().PutEmptyBytes("raw").FromRaw([]byte{0xde, 0xad})
	r.Attributes().PutStr("bad\x01utf8", "\xff")
	return ld
}

func TestGoldenFormats(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
	}{
		{"text", func(c *Config) { c.Format = formatText }},
		{"text_keep", func(c *Config) { c.Format = formatText; c.Multiline = multilineKeep }},
		{"text_space", func(c *Config) { c.Format = formatText; c.Multiline = multilineSpace }},
		{"syslog", func(c *Config) {
			c.Format = formatSyslog
			c.Syslog.SDID = "logx@32473"
			c.Syslog.SDAttributes = []string{"dc", logattr.Service}
		}},
		{"json", func(c *Config) { c.Format = formatJSON }},
		{"cfjs1", func(c *Config) { c.Format = formatCFJS1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, func(c *Config) {
				c.Path = "all.log"
				tc.mutate(c)
			})
			env.push(goldenLogs())
			got := readFile(t, filepath.Join(env.dir, "all.log"))
			golden := filepath.Join("testdata", "golden", tc.name+".log")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -run TestGoldenFormats -update once")
			assert.Equal(t, string(want), got)
		})
	}
}

// TestJSONLinesAreValid checks the json format with the standard decoder,
// independently of the golden file.
func TestJSONLinesAreValid(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.Path = "all.log"; c.Format = formatJSON })
	env.push(goldenLogs())
	out := strings.TrimSuffix(readFile(t, filepath.Join(env.dir, "all.log")), "\n")
	ls := strings.Split(out, "\n")
	require.Len(t, ls, 3)
	var first, second map[string]any
	require.NoError(t, json.Unmarshal([]byte(ls[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(ls[1]), &second))
	assert.Equal(t, "2026-11-22T10:11:12.345678901Z", first["time"])
	assert.Equal(t, "host-a", first["resource"].(map[string]any)["host.name"])
	assert.Equal(t, "panic: boom\n\tat main.go:12\r\npath C:\\tmp \"quoted\" ]", second["body"])
	assert.Equal(t, "0102030405060708090a0b0c0d0e0f10", second["trace_id"])
	var third map[string]any
	require.NoError(t, json.Unmarshal([]byte(ls[2]), &third))
	assert.Equal(t, "\ufffd", third["attributes"].(map[string]any)["bad\x01utf8"])
}
