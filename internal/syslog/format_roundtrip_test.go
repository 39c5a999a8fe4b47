package syslog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestFormatParseRoundTrip formats a record, parses the line back with the
// package's RFC 5424 parser, and formats again: the header fields,
// structured data (with escaped characters) and body survive, and the
// second line equals the first.
func TestFormatParseRoundTrip(t *testing.T) {
	rec := formatTestRecord()
	o := &RFC5424Options{}
	line := string(AppendRFC5424(nil, pcommon.Map{}, rec, o))

	back := plog.NewLogRecord()
	p := &Parser{Format: FormatRFC5424}
	require.NoError(t, p.Parse(line, back))
	assert.Equal(t, "disk almost full", back.Body().Str())
	assert.Equal(t, plog.SeverityNumberError, back.SeverityNumber())
	assert.Equal(t, rec.Timestamp()/1000, back.Timestamp()/1000, "microseconds kept")
	for _, k := range []string{"syslog.hostname", "syslog.appname", "syslog.msgid",
		"syslog.sd.exampleSDID@32473.iut", "syslog.sd.exampleSDID@32473.eventSource", "syslog.sd.origin.ip"} {
		want, _ := rec.Attributes().Get(k)
		got, ok := back.Attributes().Get(k)
		if assert.True(t, ok, k) {
			assert.Equal(t, want.AsString(), got.AsString(), k)
		}
	}
	again := string(AppendRFC5424(nil, pcommon.Map{}, back, o))
	assert.Equal(t, line, again)
}

// FuzzFormatParseRoundTrip checks the SD escaping against the parser:
// whatever a structured data value or body holds, the parser reads back
// exactly what was formatted.
func FuzzFormatParseRoundTrip(f *testing.F) {
	f.Add(`plain`, "body")
	f.Add(`a "quoted" \back\ ]bracket[`, "multi\nline")
	f.Add(`\`, `"]`)
	f.Add("", "")
	f.Add("x", "\xef\xbb\xbfstarts with a BOM")
	f.Fuzz(func(t *testing.T, value, body string) {
		rec := plog.NewLogRecord()
		rec.Body().SetStr(body)
		rec.Attributes().PutStr("syslog.sd.test@32473.v", value)
		rec.Attributes().PutStr("syslog.hostname", value)
		line := string(AppendRFC5424(nil, pcommon.Map{}, rec, &RFC5424Options{}))
		back := plog.NewLogRecord()
		if err := (&Parser{Format: FormatRFC5424}).Parse(line, back); err != nil {
			t.Fatalf("formatted line does not parse: %v\n%q", err, line)
		}
		got, ok := back.Attributes().Get("syslog.sd.test@32473.v")
		if !ok || got.Str() != value {
			t.Fatalf("SD value %q came back as %q (present %v)\n%q", value, got.AsString(), ok, line)
		}
		if back.Body().Str() != body {
			t.Fatalf("body %q came back as %q", body, back.Body().Str())
		}
	})
}
