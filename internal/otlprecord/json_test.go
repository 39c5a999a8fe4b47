package otlprecord

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// oneRecordLogs is the one-record Logs the reference marshaler is given.
func oneRecordLogs(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) plog.Logs {
	one := plog.NewLogs()
	r := one.ResourceLogs().AppendEmpty()
	rl.Resource().CopyTo(r.Resource())
	r.SetSchemaUrl(rl.SchemaUrl())
	s := r.ScopeLogs().AppendEmpty()
	sl.Scope().CopyTo(s.Scope())
	s.SetSchemaUrl(sl.SchemaUrl())
	lr.CopyTo(s.LogRecords().AppendEmpty())
	return one
}

func pdataJSON(t testing.TB, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) []byte {
	var m plog.JSONMarshaler
	b, err := m.MarshalLogs(oneRecordLogs(rl, sl, lr))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The hand-written writer gives the bytes plog.JSONMarshaler gives, for
// every kind of value (doubles in both notations, NaN and infinities
// included) and for the record with nothing set.
func TestJSONMatchesPdata(t *testing.T) {
	empty := plog.NewLogs()
	empty.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	for _, ld := range []plog.Logs{goldenLogs(), empty, benchLogs(200, 10)} {
		eachRecord(ld, func(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) {
			want := pdataJSON(t, rl, sl, lr)
			if got := AppendJSON(nil, rl, sl, lr); !bytes.Equal(got, want) {
				t.Fatalf("differs from pdata:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// The golden file was written by plog.JSONMarshaler (the Kafka exporter's
// otlp_json values before this package): the writer keeps those bytes.
// The push jobs' writer before it formatted some doubles differently
// (1.23456725e+06): its golden lines read back as the same logs.
func TestJSONGolden(t *testing.T) {
	var got []byte
	eachRecord(goldenLogs(), func(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) {
		got = append(AppendJSON(got, rl, sl, lr), '\n')
	})
	want, err := os.ReadFile("testdata/records-pdata.json.golden")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("differs from the golden file:\n got %s\nwant %s", got, want)
	}
	old, err := os.ReadFile("testdata/records-handwritten.json.golden")
	if err != nil {
		t.Fatal(err)
	}
	oldLines := bytes.Split(bytes.TrimSuffix(old, []byte("\n")), []byte("\n"))
	newLines := bytes.Split(bytes.TrimSuffix(got, []byte("\n")), []byte("\n"))
	if len(oldLines) != len(newLines) {
		t.Fatalf("%d old lines, %d new", len(oldLines), len(newLines))
	}
	for i := range oldLines {
		if a, b := canonical(t, oldLines[i]), canonical(t, newLines[i]); !bytes.Equal(a, b) {
			t.Fatalf("line %d reads back differently:\n old %s\n new %s", i, a, b)
		}
	}
}

// canonical reads an OTLP-JSON document with pdata and writes it as
// protobuf, so that two documents compare by what they mean.
func canonical(t testing.TB, doc []byte) []byte {
	var u plog.JSONUnmarshaler
	ld, err := u.UnmarshalLogs(doc)
	if err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	var m plog.ProtoMarshaler
	b, err := m.MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzJSONDifferential: for records built from arbitrary strings, bytes
// and numbers, the hand-written writer makes the bytes plog.JSONMarshaler
// makes, and they read back with plog.JSONUnmarshaler. The one intended
// difference: pdata copies invalid UTF-8 into its output (which is then
// not valid JSON), the writer puts U+FFFD for each such byte; so the
// reference is given the strings with that replacement made.
func FuzzJSONDifferential(f *testing.F) {
	f.Add("body", "key", "value", int64(-42), 1.5e-7, []byte{0, 1, 250}, "scope", uint64(1700000000123456789))
	f.Add("h\"1\\\n\x01é\xff\u2028", "", "\xc3", int64(math.MaxInt64), math.Inf(1), []byte(nil), "", uint64(0))
	f.Add("", "k", "", int64(0), 1e21, []byte("x"), "s\x00", uint64(math.MaxUint64))
	f.Fuzz(func(t *testing.T, body, key, val string, i int64, d float64, raw []byte, scope string, ts uint64) {
		build := func(fix func(string) string) plog.Logs {
			body, key, val, scope := fix(body), fix(key), fix(val), fix(scope)
			ld := plog.NewLogs()
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr(key, val)
			rl.SetSchemaUrl(val)
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(scope)
			sl.Scope().SetVersion(key)
			lr := sl.LogRecords().AppendEmpty()
			lr.SetTimestamp(pcommon.Timestamp(ts))
			lr.SetSeverityText(val)
			lr.SetSeverityNumber(plog.SeverityNumber(i & 31))
			lr.SetEventName(key)
			switch i & 3 {
			case 0:
				lr.Body().SetStr(body)
			case 1:
				lr.Body().SetEmptyBytes().FromRaw(raw)
			case 2:
				m := lr.Body().SetEmptyMap()
				m.PutStr(key+"k", body)
				m.PutEmptySlice(val + "v").AppendEmpty().SetDouble(d)
			}
			a := lr.Attributes()
			a.PutStr(key+"s", body)
			a.PutInt(key+"i", i)
			a.PutDouble(key+"d", d)
			a.PutBool(key+"b", i&4 != 0)
			a.PutEmptyBytes(key + "r").FromRaw(raw)
			a.PutEmpty(key + "e")
			var tid pcommon.TraceID
			copy(tid[:], raw)
			lr.SetTraceID(tid)
			lr.SetFlags(plog.LogRecordFlags(uint32(ts)))
			return ld
		}
		first := func(ld plog.Logs) (plog.ResourceLogs, plog.ScopeLogs, plog.LogRecord) {
			rl := ld.ResourceLogs().At(0)
			sl := rl.ScopeLogs().At(0)
			return rl, sl, sl.LogRecords().At(0)
		}
		rl, sl, lr := first(build(func(s string) string { return s }))
		got := AppendJSON(nil, rl, sl, lr)
		rl, sl, lr = first(build(replaceInvalidUTF8))
		want := pdataJSON(t, rl, sl, lr)
		if !bytes.Equal(got, want) {
			t.Fatalf("differs from pdata:\n got %q\nwant %q", got, want)
		}
		if a, b := canonical(t, got), canonical(t, want); !bytes.Equal(a, b) {
			t.Fatalf("reads back differently from pdata's document")
		}
	})
}

// replaceInvalidUTF8 puts U+FFFD for each byte of s that is not part of
// valid UTF-8.
func replaceInvalidUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// benchLogs is one record of realistic size: a body of bodyLen bytes,
// attrs string attributes, and a resource and scope as collectors send
// them.
func benchLogs(bodyLen, attrs int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	ra := rl.Resource().Attributes()
	ra.PutStr("service.name", "checkout")
	ra.PutStr("service.namespace", "shop")
	ra.PutStr("host.name", "node-17.example.internal")
	ra.PutStr("k8s.pod.name", "checkout-7d9f8b6c5-x2x9z")
	ra.PutStr("k8s.namespace.name", "production")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver")
	sl.Scope().SetVersion("0.162.0")
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(1700000000123456789)
	lr.SetObservedTimestamp(1700000000223456789)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	lr.Body().SetStr(strings.Repeat("GET /api/v1/orders/12345 200 \"Mozilla/5.0\" ", bodyLen/44+1)[:bodyLen])
	a := lr.Attributes()
	a.PutStr("logx.tenant", "acme")
	a.PutInt("http.status_code", 200)
	for j := 2; j < attrs; j++ {
		a.PutStr("attr."+strconv.Itoa(j), "value-"+strconv.Itoa(j*7919))
	}
	lr.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	lr.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	return ld
}

// BenchmarkJSON compares the hand-written writer with plog.JSONMarshaler
// on one record: "pdata" as a caller must use it (copy the record into a
// one-record Logs, marshal, append), "pdata-marshal" the marshal alone.
func BenchmarkJSON(b *testing.B) {
	for _, size := range []struct {
		name            string
		bodyLen, nAttrs int
	}{{"body200B-10attrs", 200, 10}, {"body1KiB-100attrs", 1024, 100}} {
		ld := benchLogs(size.bodyLen, size.nAttrs)
		rl := ld.ResourceLogs().At(0)
		sl := rl.ScopeLogs().At(0)
		lr := sl.LogRecords().At(0)
		b.Run(size.name+"/handwritten", func(b *testing.B) {
			b.ReportAllocs()
			var dst []byte
			for b.Loop() {
				dst = AppendJSON(dst[:0], rl, sl, lr)
			}
			b.SetBytes(int64(len(dst)))
		})
		b.Run(size.name+"/pdata", func(b *testing.B) {
			b.ReportAllocs()
			var m plog.JSONMarshaler
			var dst []byte
			for b.Loop() {
				out, err := m.MarshalLogs(oneRecordLogs(rl, sl, lr))
				if err != nil {
					b.Fatal(err)
				}
				dst = append(dst[:0], out...)
			}
			b.SetBytes(int64(len(dst)))
		})
		b.Run(size.name+"/pdata-marshal", func(b *testing.B) {
			b.ReportAllocs()
			var m plog.JSONMarshaler
			var n int
			for b.Loop() {
				out, err := m.MarshalLogs(ld)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
		})
	}
}
