package cfjs1

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
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

var update = flag.Bool("update", false, "rewrite the golden files")

type fixture struct {
	res   pcommon.Resource
	scope pcommon.InstrumentationScope
	rec   plog.LogRecord
}

func newFixture() fixture {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	sl := rl.ScopeLogs().AppendEmpty()
	return fixture{rl.Resource(), sl.Scope(), sl.LogRecords().AppendEmpty()}
}

func (f fixture) target() Target { return Target{f.res, f.scope, f.rec} }

// fullRecord uses every field and every value type.
func fullRecord() fixture {
	f := newFixture()
	f.res.Attributes().PutStr(logattr.HostName, "edge-17")
	f.res.Attributes().PutInt("host.cpu", 64)
	f.scope.SetName("fifo")
	f.scope.SetVersion("1.0")
	f.rec.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 22, 4, 5, 6, 789000001, time.UTC)))
	f.rec.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 22, 4, 5, 7, 0, time.UTC)))
	f.rec.SetSeverityText("warning")
	f.rec.SetSeverityNumber(plog.SeverityNumberWarn)
	f.rec.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.rec.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	f.rec.Body().SetStr("GET /x \"quoted\" back\\slash\nnew line\ttab \x01 ünïcödé €")
	a := f.rec.Attributes()
	a.PutStr(logattr.Service, "nginx.service")
	a.PutStr(logattr.CFJS1Format, "nginx")
	a.PutInt("status", 200)
	a.PutInt("negative", -7)
	a.PutDouble("ratio", 0.25)
	a.PutDouble("whole", 3)
	a.PutDouble("big", 1e300)
	a.PutBool("ok", true)
	a.PutEmpty("nothing")
	m := a.PutEmptyMap("nested")
	m.PutStr("k", "v")
	// FromRaw fails only on a type it does not know; these are all known.
	_ = m.PutEmptySlice("list").FromRaw([]any{int64(1), "two", false, map[string]any{"x": 1.5}})
	return f
}

func goldenCompare(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o600))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), string(got))
}

func TestEncodeGolden(t *testing.T) {
	f := fullRecord()
	line := AppendLine(nil, "nginx", Wrappers{"nginx": "nginx_log"}.Name("nginx"), f.res, f.scope, f.rec, "")
	goldenCompare(t, "full", line)
	require.True(t, json.Valid(line), "%s", line)

	goldenCompare(t, "full_dead_letter", AppendDeadLetter(nil, line, "log-b"))

	g := newFixture()
	g.rec.Body().SetStr("plain")
	goldenCompare(t, "minimal", AppendLine(nil, "syslog", "syslog", g.res, g.scope, g.rec, "log-a"))

	h := newFixture()
	h.rec.Body().SetEmptyMap().PutStr("msg", "structured")
	h.rec.Attributes().PutEmptyBytes("raw").FromRaw([]byte{0, 1, 255})
	h.rec.Attributes().PutDouble("nan", math.NaN())
	h.rec.Attributes().PutStr("bad\xffutf8", "v\xfe\xffw")
	goldenCompare(t, "lossy", AppendLine(nil, "app", "app", h.res, h.scope, h.rec, ""))
}

func TestDeadLetterMatchesDirectEncoding(t *testing.T) {
	f := fullRecord()
	direct := AppendLine(nil, "nginx", "nginx", f.res, f.scope, f.rec, "log-b")
	line := AppendLine(nil, "nginx", "nginx", f.res, f.scope, f.rec, "")
	assert.Equal(t, string(direct), string(AppendDeadLetter(nil, line, "log-b")))
}

func TestRoundTripKeepsEverything(t *testing.T) {
	f := fullRecord()
	line := AppendLine(nil, "nginx", "nginx_log", f.res, f.scope, f.rec, "log-b")
	g := newFixture()
	meta, err := Decode(line, Wrappers{"nginx": "nginx_log"}, g.target())
	require.NoError(t, err)
	assert.Equal(t, Meta{Format: "nginx", Wrapper: "nginx_log", DeadLetterFor: "log-b"}, meta)

	want := f.rec.Attributes().AsRaw()
	want[logattr.CFJS1DeadLetterFor] = "log-b"
	assert.Equal(t, want, g.rec.Attributes().AsRaw())
	assert.Equal(t, f.res.Attributes().AsRaw(), g.res.Attributes().AsRaw())
	assert.Equal(t, f.rec.Body().AsRaw(), g.rec.Body().AsRaw())
	assert.Equal(t, f.rec.Timestamp(), g.rec.Timestamp())
	assert.Equal(t, f.rec.ObservedTimestamp(), g.rec.ObservedTimestamp())
	assert.Equal(t, f.rec.SeverityText(), g.rec.SeverityText())
	assert.Equal(t, f.rec.SeverityNumber(), g.rec.SeverityNumber())
	assert.Equal(t, f.rec.TraceID(), g.rec.TraceID())
	assert.Equal(t, f.rec.SpanID(), g.rec.SpanID())
	assert.Equal(t, "fifo", g.scope.Name())
	assert.Equal(t, "1.0", g.scope.Version())
	// Types survive: a whole double stays a double.
	v, _ := g.rec.Attributes().Get("whole")
	assert.Equal(t, pcommon.ValueTypeDouble, v.Type())

	// Encoding the decoded record again gives the same line.
	again := AppendLine(nil, "nginx", "nginx_log", g.res, g.scope, g.rec, "log-b")
	assert.Equal(t, string(line), string(again))
}

func TestDecodeSyslogNGStyle(t *testing.T) {
	// What a syslog-ng template produces: extra fields in the wrapper,
	// timestamp with an offset, escaped unicode.
	line := []byte(`{"format":"syslog","syslog":{"timestamp":"2026-11-22T05:06:07+01:00","HOST":"h1","PROGRAM":"sshd","message":"caf\u00e9 \ud83d\ude00 \/"}}` + "\r\n")
	f := newFixture()
	meta, err := Decode(line, nil, f.target())
	require.NoError(t, err)
	assert.Equal(t, "syslog", meta.Format)
	assert.Equal(t, "café 😀 /", f.rec.Body().Str())
	assert.Equal(t, time.Date(2026, 11, 22, 4, 6, 7, 0, time.UTC), f.rec.Timestamp().AsTime())
	assert.Equal(t, map[string]any{"HOST": "h1", "PROGRAM": "sshd", logattr.CFJS1Format: "syslog"}, f.rec.Attributes().AsRaw())
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]string{
		`not json`:                                     "expected '{'",
		``:                                             "unexpected end",
		`{"format":"a"}`:                               "no wrapper object",
		`{"a":{}}`:                                     `no "format" field`,
		`{"format":"a","a":{}} x`:                      "trailing data",
		`{"format":"a","a":{},"b":{}}`:                 "second wrapper",
		`{"format":"a","a":{},"x":1}`:                  "not an object",
		`{"format":"a","a":{"message":"x}}`:            "unterminated string",
		`{"format":"a","a":{"message":01}}`:            "invalid number",
		`{"format":"a","a":{"x":-.5}}`:                 "invalid number",
		`{"format":"a","a":{"x":1.5.5}}`:               "invalid number",
		`{"format":"a","a":{"x":0.}}`:                  "invalid number",
		`{"format":"a","a":{"x":1.e5}}`:                "invalid number",
		`{"format":"a","a":{"x":1e}}`:                  "invalid number",
		`{"format":"a","a":{"timestamp":"yesterday"}}`: "not RFC 3339",
		`{"format":"a","a":{"severity_number":99}}`:    "0..24",
		`{"format":"a","a":{"trace_id":"abc"}}`:        "hex digits",
		`{"format":"a","a":{"message":"\q"}}`:          "invalid escape",
		`{"format":"a","b":{}}`:                        `expected "a_w"`,
		// Padded: a short line of so many arrays is refused for that first.
		string(padTo([]byte(`{"format":"a","a":{"message":`+strings.Repeat("[", 100)+`}}`), 2000)): "nest deeper",
	}
	for line, want := range cases {
		f := newFixture()
		_, err := Decode([]byte(line), Wrappers{"a": "a_w"}, f.target())
		if want == `expected "a_w"` {
			require.ErrorContains(t, err, want, line)
			continue
		}
		_, err = Decode([]byte(line), nil, f.target())
		require.ErrorContains(t, err, want, line)
	}
}

// FuzzDecode checks every line the decoder accepts against encoding/json
// (it must be valid JSON: the decoder repairs invalid UTF-8 inside strings,
// which JSON's grammar, and json.Valid, let through) and against the
// encoder: the decoded record encodes to valid JSON that decodes to the
// same record, and encodes again to the same line. The seeds include small
// versions of the hostile lines.
func FuzzDecode(f *testing.F) {
	fx := fullRecord()
	f.Add(AppendLine(nil, "nginx", "nginx", fx.res, fx.scope, fx.rec, "log-b"))
	for _, name := range []string{"full", "full_dead_letter", "minimal", "lossy"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"format":"syslog","syslog":{"message":"caf\u00e9 \ud83d\ude00","x":[1,2.5e3,null,true,{"y":"\ud800"}]}}`))
	f.Add([]byte(`{"format":"a","a":{"timestamp":1700000000000000000}}`))
	f.Add([]byte(`{"format":"a"`))
	f.Add([]byte(`{"format":"a","a":{"attributes":{"k":1,"j":2,"k":3,"cfjs1.format":"x"},"k":4,"resource":{"r":1},"resource":{"r":2}},"dead_letter_for":"b"}`))
	f.Add([]byte(`{"format":"a","a":{"message":{"m":{"a":1,"a":[1,{"a":2,"a":3}]}},"x":1e999,"y":-0.0,"z":123456789012345678901234567890}}`))
	for _, line := range hostileLines(512) {
		f.Add(line)
	}
	dc := &Decoder{Limits: Limits{MaxMembers: 64, MaxValues: 256, MaxDepth: 16}}
	f.Fuzz(func(t *testing.T, line []byte) {
		g := newFixture()
		meta, err := dc.Decode(line, g.target())
		if err != nil {
			if DropReason(err) == ReasonDecodeError {
				t.Fatalf("%q: an error without a cause: %v", line, err)
			}
			return
		}
		if !json.Valid(line) {
			t.Fatalf("accepted a line that is not valid JSON: %q", line)
		}
		out := AppendLine(nil, meta.Format, meta.Wrapper, g.res, g.scope, g.rec, meta.DeadLetterFor)
		if !json.Valid(out) {
			t.Fatalf("re-encoding %q gave invalid JSON %q", line, out)
		}
		h := newFixture()
		meta2, err := Decode(out, nil, h.target())
		if err != nil {
			t.Fatalf("re-encoded line %q does not decode: %v", out, err)
		}
		if meta2 != meta {
			t.Fatalf("%q: meta %+v, after a round trip %+v", line, meta, meta2)
		}
		if diff := recordDiff(g, h); diff != "" {
			t.Fatalf("%q: decoded again from %q: %s", line, out, diff)
		}
		if !bytes.Equal(out, AppendLine(nil, meta.Format, meta.Wrapper, h.res, h.scope, h.rec, meta.DeadLetterFor)) {
			t.Fatalf("encoding is not stable for %q", line)
		}
	})
}

// recordDiff says how record b differs from a, a's non-finite doubles taken
// as the strings they are written as (see docs/cfjs1.md, Values), and
// cfjs1.dead_letter_for left out: the encoder writes the line's own marker,
// from the top-level field, in its place.
func recordDiff(a, b fixture) string {
	norm := func(m pcommon.Map) pcommon.Map {
		c := pcommon.NewMap()
		m.CopyTo(c)
		c.Remove(logattr.CFJS1DeadLetterFor)
		for _, v := range c.All() {
			nonFiniteAsString(v)
		}
		return c
	}
	body := pcommon.NewValueEmpty()
	a.rec.Body().CopyTo(body)
	nonFiniteAsString(body)
	switch {
	case !norm(a.rec.Attributes()).Equal(norm(b.rec.Attributes())):
		return fmt.Sprintf("attributes %v, then %v", a.rec.Attributes().AsRaw(), b.rec.Attributes().AsRaw())
	case !norm(a.res.Attributes()).Equal(norm(b.res.Attributes())):
		return fmt.Sprintf("resource %v, then %v", a.res.Attributes().AsRaw(), b.res.Attributes().AsRaw())
	case !body.Equal(b.rec.Body()):
		return fmt.Sprintf("body %v, then %v", a.rec.Body().AsRaw(), b.rec.Body().AsRaw())
	case a.rec.Timestamp() != b.rec.Timestamp() || a.rec.ObservedTimestamp() != b.rec.ObservedTimestamp():
		return "timestamps differ"
	case a.rec.SeverityText() != b.rec.SeverityText() || a.rec.SeverityNumber() != b.rec.SeverityNumber():
		return "severity differs"
	case a.rec.TraceID() != b.rec.TraceID() || a.rec.SpanID() != b.rec.SpanID():
		return "ids differ"
	case a.scope.Name() != b.scope.Name() || a.scope.Version() != b.scope.Version():
		return "scope differs"
	}
	return ""
}

func nonFiniteAsString(v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		switch f := v.Double(); {
		case math.IsInf(f, 1):
			v.SetStr("+Inf")
		case math.IsInf(f, -1):
			v.SetStr("-Inf")
		}
	case pcommon.ValueTypeMap:
		for _, m := range v.Map().All() {
			nonFiniteAsString(m)
		}
	case pcommon.ValueTypeSlice:
		for _, e := range v.Slice().All() {
			nonFiniteAsString(e)
		}
	}
}

func benchRecord() fixture {
	f := newFixture()
	f.res.Attributes().PutStr(logattr.HostName, "edge-17.example.net")
	f.rec.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 22, 4, 5, 6, 789000001, time.UTC)))
	f.rec.SetSeverityNumber(plog.SeverityNumberInfo)
	f.rec.Body().SetStr(`192.0.2.1 - - "GET /index.html HTTP/1.1" 200 5120 "-" "curl/8.0"`)
	a := f.rec.Attributes()
	a.PutStr(logattr.Service, "nginx.service")
	a.PutStr(logattr.CFJS1Format, "nginx")
	a.PutStr(logattr.SyslogAppName, "nginx")
	a.PutStr(logattr.SyslogProcID, "1234")
	a.PutInt(logattr.SyslogFacility, 3)
	a.PutStr("dc", "ams01")
	a.PutStr("unit.status", "active")
	a.PutInt("peer.pid", 1234)
	a.PutBool("sampled", true)
	a.PutDouble("ratio", 0.5)
	return f
}

func BenchmarkEncode10Attrs(b *testing.B) {
	f := benchRecord()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendLine(buf[:0], "nginx", "nginx", f.res, f.scope, f.rec, "")
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkDecode10Attrs decodes into a record reused from line to line:
// the codec's own cost. (Map.Clear drops the maps' backing arrays, so
// their allocation is counted here too, as it is in the receiver.)
func BenchmarkDecode10Attrs(b *testing.B) {
	f := benchRecord()
	line := AppendLine(nil, "nginx", "nginx", f.res, f.scope, f.rec, "")
	b.SetBytes(int64(len(line)))
	g := newFixture()
	b.ReportAllocs()
	for b.Loop() {
		g.rec.Attributes().Clear()
		g.res.Attributes().Clear()
		if _, err := Decode(line, nil, g.target()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode10AttrsVaried decodes lines whose attribute values all
// differ from the line before (a new pid, unit, ratio, ... each line), so
// no value is shared: the cost when lines do not repeat themselves.
func BenchmarkDecode10AttrsVaried(b *testing.B) {
	var lines [][]byte
	for i := range 64 {
		f := benchRecord()
		a := f.rec.Attributes()
		a.PutStr(logattr.Service, fmt.Sprintf("svc-%d.service", i))
		a.PutStr(logattr.SyslogAppName, fmt.Sprintf("app%d", i))
		a.PutStr(logattr.SyslogProcID, fmt.Sprint(1000+i))
		a.PutInt(logattr.SyslogFacility, int64(i%24))
		a.PutStr("dc", fmt.Sprintf("dc%02d", i))
		a.PutStr("unit.status", fmt.Sprintf("state-%d", i))
		a.PutInt("peer.pid", int64(5000+i))
		a.PutBool("sampled", i%2 == 0)
		a.PutDouble("ratio", float64(i)/64)
		lines = append(lines, AppendLine(nil, "nginx", "nginx", f.res, f.scope, f.rec, ""))
	}
	b.SetBytes(int64(len(lines[0])))
	g := newFixture()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		g.rec.Attributes().Clear()
		g.res.Attributes().Clear()
		if _, err := Decode(lines[i%len(lines)], nil, g.target()); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDecode10AttrsFreshRecord adds what the receiver pays per line:
// a new resource, scope and record.
func BenchmarkDecode10AttrsFreshRecord(b *testing.B) {
	f := benchRecord()
	line := AppendLine(nil, "nginx", "nginx", f.res, f.scope, f.rec, "")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		g := newFixture()
		if _, err := Decode(line, nil, g.target()); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAckLines(t *testing.T) {
	assert.Equal(t, Hello, ParseControl([]byte(strings.TrimSpace(HelloLine))))
	assert.Equal(t, Ping, ParseControl([]byte(strings.TrimSpace(PingLine))))
	assert.Equal(t, UnknownControl, ParseControl([]byte(`{"cfjs1_ctl":"later"}`)))
	assert.Equal(t, NotControl, ParseControl([]byte(`{"format":"a","a":{}}`)))
	n, err := ParseAck(AppendAck(nil, 12345))
	require.NoError(t, err)
	assert.EqualValues(t, 12345, n)
	_, err = ParseAck([]byte(`{"ack":-1}`))
	require.Error(t, err)
	_, err = ParseAck([]byte(`hello`))
	require.Error(t, err)
}
