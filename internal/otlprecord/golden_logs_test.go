package otlprecord

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// goldenLogs builds the logs whose records testdata/*.golden hold, as the
// encoders before this package wrote them. It must not change: the golden
// files are what is already on disk in tenant buffers and on the wire.
func goldenLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.SetSchemaUrl("https://example.test/res")
	rl.Resource().Attributes().PutStr("host.name", "h\"1\\\n\x01é")
	rl.Resource().Attributes().PutStr("service.name", "checkout")
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
	a.PutStr("logx.tenant", "acme")
	a.PutInt("i", -42)
	a.PutEmptyBytes("b").FromRaw([]byte{0, 1, 2, 250})
	a.PutDouble("d", 1.5e-7)
	a.PutDouble("big", 1e21)
	a.PutDouble("mid", 1234567.25)
	a.PutDouble("nan", math.NaN())
	a.PutDouble("inf", math.Inf(-1))
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
	// A second record under the same scope, and a bare one.
	lr = sl.LogRecords().AppendEmpty()
	lr.Body().SetStr("second")
	lr.Attributes().PutStr("logx.tenant", "beta")
	sl.LogRecords().AppendEmpty()
	// A second scope, and a second resource with nothing set but a record.
	sl = rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("other")
	lr = sl.LogRecords().AppendEmpty()
	lr.Body().SetEmptyMap().PutInt("n", 7)
	lr.SetTimestamp(1)
	rl = ld.ResourceLogs().AppendEmpty()
	lr = rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetEmptySlice().AppendEmpty().SetDouble(0.1)
	lr.SetSeverityNumber(plog.SeverityNumberError)
	return ld
}

// eachRecord calls f for every record of ld with its resource and scope.
func eachRecord(ld plog.Logs, f func(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord)) {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				f(rl, sl, lr)
			}
		}
	}
}
