package logfileexporter

import (
	"encoding/hex"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/jsonstr"
	"github.com/otelcol-logx/otelcol-logx/internal/jsonvalue"
)

// jsonFormatter writes one JSON object per line:
//
//	{"time":"...","observed_time":"...","severity_text":"...","severity_number":9,
//	 "body":...,"attributes":{...},"resource":{...},"scope":{"name":"...","version":"..."},
//	 "trace_id":"...","span_id":"..."}
//
// Fields that are unset (zero time, empty text, no trace) are left out.
// Times are RFC 3339 in UTC with nanoseconds.
type jsonFormatter struct{}

func (jsonFormatter) appendLine(dst []byte, res pcommon.Resource, scope pcommon.InstrumentationScope, rec plog.LogRecord) []byte {
	dst = append(dst, '{')
	first := true
	key := func(k string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, '"', ':')
	}
	if ts := rec.Timestamp(); ts != 0 {
		key("time")
		dst = appendJSONTime(dst, ts)
	}
	if ts := rec.ObservedTimestamp(); ts != 0 {
		key("observed_time")
		dst = appendJSONTime(dst, ts)
	}
	if s := rec.SeverityText(); s != "" {
		key("severity_text")
		dst = jsonstr.Append(dst, s)
	}
	if n := rec.SeverityNumber(); n != 0 {
		key("severity_number")
		dst = strconv.AppendInt(dst, int64(n), 10)
	}
	key("body")
	dst = jsonvalue.Append(dst, rec.Body(), jsonvalue.Shortest)
	if a := rec.Attributes(); a.Len() > 0 {
		key("attributes")
		dst = jsonvalue.AppendMap(dst, a, jsonvalue.Shortest)
	}
	if a := res.Attributes(); a.Len() > 0 {
		key("resource")
		dst = jsonvalue.AppendMap(dst, a, jsonvalue.Shortest)
	}
	if scope.Name() != "" || scope.Version() != "" {
		key("scope")
		dst = append(dst, `{"name":`...)
		dst = jsonstr.Append(dst, scope.Name())
		dst = append(dst, `,"version":`...)
		dst = jsonstr.Append(dst, scope.Version())
		dst = append(dst, '}')
	}
	if id := rec.TraceID(); !id.IsEmpty() {
		key("trace_id")
		dst = append(dst, '"')
		dst = hex.AppendEncode(dst, id[:])
		dst = append(dst, '"')
	}
	if id := rec.SpanID(); !id.IsEmpty() {
		key("span_id")
		dst = append(dst, '"')
		dst = hex.AppendEncode(dst, id[:])
		dst = append(dst, '"')
	}
	return append(dst, '}', '\n')
}

func appendJSONTime(dst []byte, ts pcommon.Timestamp) []byte {
	dst = append(dst, '"')
	dst = ts.AsTime().UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}
