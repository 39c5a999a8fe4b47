package syslog

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

var parseTestNow = time.Date(2026, time.November, 22, 4, 30, 0, 0, time.UTC)

func newTestParser(f Format) *Parser {
	return &Parser{Format: f, Location: time.UTC, Now: func() time.Time { return parseTestNow }}
}

func parseTestLine(t *testing.T, f Format, line string) (plog.LogRecord, error) {
	t.Helper()
	lr := plog.NewLogRecord()
	err := newTestParser(f).Parse(line, lr)
	return lr, err
}

func attrsOf(lr plog.LogRecord) map[string]any { return lr.Attributes().AsRaw() }

func TestRFC3164Local(t *testing.T) {
	lr, err := parseTestLine(t, FormatAuto, "<13>Nov 22 04:00:00 myapp[123]: hello world")
	require.NoError(t, err)
	assert.Equal(t, "hello world", lr.Body().Str())
	assert.Equal(t, time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC), lr.Timestamp().AsTime())
	assert.Equal(t, plog.SeverityNumberInfo2, lr.SeverityNumber())
	assert.Equal(t, "NOTICE", lr.SeverityText())
	assert.Equal(t, map[string]any{
		logattr.SyslogFacility: int64(1),
		logattr.SyslogAppName:  "myapp",
		logattr.SyslogProcID:   "123",
	}, attrsOf(lr))
}

func TestRFC3164WithHostname(t *testing.T) {
	lr, err := parseTestLine(t, FormatRFC3164, "<34>Oct  1 22:14:15 mymachine su: 'su root' failed")
	require.NoError(t, err)
	assert.Equal(t, "'su root' failed", lr.Body().Str())
	assert.Equal(t, time.Date(2026, 10, 1, 22, 14, 15, 0, time.UTC), lr.Timestamp().AsTime())
	assert.Equal(t, plog.SeverityNumberFatal2, lr.SeverityNumber())
	assert.Equal(t, map[string]any{
		logattr.SyslogFacility: int64(4),
		logattr.SyslogHostname: "mymachine",
		logattr.SyslogAppName:  "su",
	}, attrsOf(lr))
}

func TestRFC3164LastYear(t *testing.T) {
	lr, err := parseTestLine(t, FormatRFC3164, "<13>Dec 31 23:59:59 app: x")
	require.NoError(t, err)
	assert.Equal(t, 2025, lr.Timestamp().AsTime().Year())
}

func TestRFC3164Variants(t *testing.T) {
	cases := []struct {
		line, body, app, pid, host string
	}{
		{"<13>Nov 22 04:00:00 hello world", "hello world", "", "", ""},
		{"<13>hello", "hello", "", "", ""},
		{"<13>app[7] no colon", "no colon", "app", "7", ""},
		{"<13>2026-11-22T04:00:00.123+01:00 h1 app: iso", "iso", "app", "", "h1"},
		{"<13>Nov 22 04:00:00 h1 sshd[99]:", "", "sshd", "99", "h1"},
		{"<13>Nov 22 04:00:00 h1 a b: c", "h1 a b: c", "", "", ""},
	}
	for _, c := range cases {
		lr, err := parseTestLine(t, FormatRFC3164, c.line)
		require.NoError(t, err, c.line)
		assert.Equal(t, c.body, lr.Body().Str(), c.line)
		a := attrsOf(lr)
		get := func(k string) string { s, _ := a[k].(string); return s }
		assert.Equal(t, c.app, get(logattr.SyslogAppName), c.line)
		assert.Equal(t, c.pid, get(logattr.SyslogProcID), c.line)
		assert.Equal(t, c.host, get(logattr.SyslogHostname), c.line)
	}
}

func TestRFC3164Malformed(t *testing.T) {
	for _, line := range []string{"", "no pri", "<192>too big", "<abc>x", "<13"} {
		lr, err := parseTestLine(t, FormatRFC3164, line)
		assert.True(t, IsParseError(err), "%q: %v", line, err)
		assert.Equal(t, line, lr.Body().Str())
	}
}

func TestRFC5424(t *testing.T) {
	line := `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Appl\"ication"][x@1 a="]"] ` + byteOrderMark + `An application event`
	lr, err := parseTestLine(t, FormatAuto, line)
	require.NoError(t, err)
	assert.Equal(t, "An application event", lr.Body().Str())
	assert.Equal(t, time.Date(2003, 10, 11, 22, 14, 15, 3e6, time.UTC), lr.Timestamp().AsTime().UTC())
	assert.Equal(t, plog.SeverityNumberInfo2, lr.SeverityNumber())
	assert.Equal(t, map[string]any{
		logattr.SyslogFacility:                    int64(20),
		logattr.SyslogVersion:                     int64(1),
		logattr.SyslogHostname:                    "mymachine.example.com",
		logattr.SyslogAppName:                     "evntslog",
		logattr.SyslogProcID:                      "1234",
		logattr.SyslogMsgID:                       "ID47",
		"syslog.sd.exampleSDID@32473.iut":         "3",
		"syslog.sd.exampleSDID@32473.eventSource": `Appl"ication`,
		"syslog.sd.x@1.a":                         "]",
	}, attrsOf(lr))
}

func TestRFC5424NilFields(t *testing.T) {
	lr, err := parseTestLine(t, FormatRFC5424, "<14>1 - - - - - -")
	require.NoError(t, err)
	assert.Empty(t, lr.Body().Str())
	assert.Equal(t, int64(0), int64(lr.Timestamp()))
	assert.Equal(t, map[string]any{logattr.SyslogFacility: int64(1), logattr.SyslogVersion: int64(1)}, attrsOf(lr))
}

func TestRFC5424Malformed(t *testing.T) {
	for _, line := range []string{
		"<14>2 - - - - - -",
		"<14>1 - - -",
		"<14>1 yesterday h a p m - x",
		"<14>1 - h a p m [bad",
		`<14>1 - h a p m [id k="v]`,
		"<14>1 - h a p m x",
	} {
		lr, err := parseTestLine(t, FormatRFC5424, line)
		assert.True(t, IsParseError(err), "%q: %v", line, err)
		assert.Equal(t, line, lr.Body().Str())
	}
}

func TestRaw(t *testing.T) {
	lr, err := parseTestLine(t, FormatRaw, "<13>Nov 22 04:00:00 app: x")
	require.NoError(t, err)
	assert.Equal(t, "<13>Nov 22 04:00:00 app: x", lr.Body().Str())
	assert.Equal(t, 0, lr.Attributes().Len())
}

func TestFormatText(t *testing.T) {
	var f Format
	require.NoError(t, f.UnmarshalText([]byte("rfc5424")))
	assert.Equal(t, FormatRFC5424, f)
	assert.ErrorContains(t, f.UnmarshalText([]byte("json")), `write one of "auto"`)
}

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		"<13>Nov 22 04:00:00 myapp[123]: hello",
		"<34>Oct  1 22:14:15 mymachine su: x",
		"<13>2026-11-22T04:00:00Z h a[1]: y",
		`<165>1 2003-10-11T22:14:15.003Z h app 1 ID [a b="c\"d"][e f="]"] msg`,
		"<14>1 - - - - - -",
		"<999>", "<", "", "\xff\xfe<13>",
		// Crowded structured data: past the limits, repeated names,
		// escapes, and a bad element after many good ones.
		sdLine(1, DefaultMaxSDParams+3, 1000),
		sdLine(DefaultMaxSDElements+2, 2, 2),
		sdLine(3, 40, 5),
		sdHeader + `[a@1` + strings.Repeat(` k="\"\]\\"`, 40) + `] m`,
		sdHeader + `[a@1` + strings.Repeat(` k="v"`, 100) + `][b@1 x] m`,
		sdHeader + strings.Repeat(`[a@1 k="v"]`, 50) + `[`,
	} {
		f.Add(s)
	}
}

func fuzzParse(t *testing.T, format Format, line string) {
	lr := plog.NewLogRecord()
	err := newTestParser(format).Parse(line, lr)
	if err != nil && !IsParseError(err) {
		t.Fatalf("error of unexpected type: %v", err)
	}
	if err != nil && lr.Body().Str() != line {
		t.Fatalf("failed parse must keep the line as body")
	}
	if len(lr.Body().Str()) > len(line) {
		t.Fatalf("body longer than line")
	}
	if utf8.ValidString(line) && !utf8.ValidString(lr.Body().Str()) {
		t.Fatalf("valid UTF-8 line gave invalid body")
	}
}

func FuzzRFC3164(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, line string) { fuzzParse(t, FormatRFC3164, line) })
}

func FuzzRFC5424(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, line string) { fuzzParse(t, FormatRFC5424, line) })
}

// benchLine is a typical ~180-byte local RFC 3164 line.
var benchLine = "<30>Nov 22 04:00:00 nginx[4242]: 10.0.0.1 - - \"GET /api/v1/items?id=12345 HTTP/1.1\" 200 1532 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.012 uct=0.001 uht=0.011 urt=0.011 req=abcdef"

// BenchmarkParseRFC3164Batch parses batches of 1000 lines into a
// LogRecordSlice, the text of each batch converted to one string as the
// receivers do; ns/op and allocs/op are per line.
func BenchmarkParseRFC3164Batch(b *testing.B) {
	const batch = 1000
	raw := []byte(strings.Repeat(benchLine, batch))
	p := &Parser{Format: FormatAuto, Location: time.UTC}
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	var sl plog.LogRecordSlice
	var text string
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			sl = plog.NewLogRecordSlice()
			sl.EnsureCapacity(batch)
			text = string(raw)
		}
		off := (i % batch) * len(benchLine)
		if err := p.Parse(text[off:off+len(benchLine)], sl.AppendEmpty()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if l := len(benchLine); l < 170 || l > 190 {
		b.Fatalf("bench line is %d bytes", l)
	}
}
