package logfileexporter

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/jsonstr"
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
	dst = appendJSONValue(dst, rec.Body())
	if a := rec.Attributes(); a.Len() > 0 {
		key("attributes")
		dst = appendJSONMap(dst, a)
	}
	if a := res.Attributes(); a.Len() > 0 {
		key("resource")
		dst = appendJSONMap(dst, a)
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

func appendJSONMap(dst []byte, m pcommon.Map) []byte {
	dst = append(dst, '{')
	first := true
	for k, v := range m.All() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonstr.Append(dst, k)
		dst = append(dst, ':')
		dst = appendJSONValue(dst, v)
	}
	return append(dst, '}')
}

func appendJSONValue(dst []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return jsonstr.Append(dst, v.Str())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// Not representable as a JSON number: keep it as a string.
			return jsonstr.Append(dst, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(dst, v.Bool())
	case pcommon.ValueTypeMap:
		return appendJSONMap(dst, v.Map())
	case pcommon.ValueTypeSlice:
		dst = append(dst, '[')
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONValue(dst, s.At(i))
		}
		return append(dst, ']')
	case pcommon.ValueTypeBytes:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v.Bytes().AsRaw())
		return append(dst, '"')
	default:
		return append(dst, "null"...)
	}
}
