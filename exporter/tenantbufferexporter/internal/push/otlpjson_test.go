package push

import (
	"bytes"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

func richLogs(withDouble bool) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.SetSchemaUrl("https://example.test/res")
	rl.Resource().Attributes().PutStr("host.name", "h\"1\\\n\x01é")
	rl.Resource().SetDroppedAttributesCount(2)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.SetSchemaUrl("https://example.test/scope")
	sl.Scope().SetName("scope")
	sl.Scope().SetVersion("1.2")
	sl.Scope().Attributes().PutBool("s", true)
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(1700000000123456789)
	lr.SetObservedTimestamp(1700000000999999999)
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
	lr.Body().SetStr("hello\tworld \u2028 ")
	a := lr.Attributes()
	a.PutInt("i", -42)
	a.PutEmptyBytes("b").FromRaw([]byte{0, 1, 2, 250})
	if withDouble {
		a.PutDouble("d", 1.5e-7)
	}
	s := a.PutEmptySlice("arr")
	s.AppendEmpty().SetStr("x")
	s.AppendEmpty().SetInt(1)
	m := a.PutEmptyMap("map")
	m.PutStr("k", "v")
	m.PutEmptyMap("inner").PutBool("f", false)
	a.PutEmpty("nil")
	lr.SetDroppedAttributesCount(3)
	lr.SetFlags(1)
	lr.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	lr.SetSpanID(pcommon.SpanID{0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 1, 2})
	lr.SetEventName("ev")
	return ld
}

func appendOne(ld plog.Logs) []byte {
	rl := ld.ResourceLogs().At(0)
	sl := rl.ScopeLogs().At(0)
	return appendOTLPJSON(nil, rl, sl, sl.LogRecords().At(0))
}

// The hand-written writer must give the bytes plog.JSONMarshaler gives.
func TestOTLPJSONMatchesPdata(t *testing.T) {
	for _, ld := range []plog.Logs{richLogs(false), plog.NewLogs()} {
		if ld.ResourceLogs().Len() == 0 { // the minimal record: empty everything
			ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		}
		var m plog.JSONMarshaler
		want, err := m.MarshalLogs(ld)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendOne(ld); !bytes.Equal(got, want) {
			t.Fatalf("differs from pdata:\n got %s\nwant %s", got, want)
		}
	}
}

// With a double (formatted differently than pdata's stream may format it),
// the document still reads back equal.
func TestOTLPJSONRoundTrip(t *testing.T) {
	ld := richLogs(true)
	var u plog.JSONUnmarshaler
	back, err := u.UnmarshalLogs(appendOne(ld))
	if err != nil {
		t.Fatal(err)
	}
	var pm plog.ProtoMarshaler
	// Compare through the canonical JSON of pdata (invalid UTF-8 is already
	// replaced on both sides' second pass).
	var m plog.JSONMarshaler
	a, _ := m.MarshalLogs(back)
	again, _ := u.UnmarshalLogs(appendOne(back))
	b, _ := m.MarshalLogs(again)
	if !bytes.Equal(a, b) {
		t.Fatalf("not stable:\n%s\n%s", a, b)
	}
	d, _ := back.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("d")
	if d.Double() != 1.5e-7 {
		t.Fatalf("double %v", d.Double())
	}
	if n, _ := pm.MarshalLogs(back); len(n) == 0 {
		t.Fatal("empty")
	}
}
