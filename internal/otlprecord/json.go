package otlprecord

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/jsonstr"
)

// AppendJSON appends one record as an OTLP-JSON LogsData document holding
// just it (resource, scope, record), without '\n': byte for byte the
// document plog.JSONMarshaler makes of a one-record Logs (json_test.go
// and testdata/records-pdata.json.golden hold it to that). It writes into
// dst directly, with no copy of the record into a one-record Logs, no
// intermediate stream and no per-field allocation: several times faster
// than the marshaler (see BenchmarkJSON and docs/performance.md). Invalid
// UTF-8 becomes U+FFFD, as in pdata. (Resource entity references, an
// experimental field without public accessors, are not carried.)
func AppendJSON(dst []byte, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) []byte {
	dst = append(dst, `{"resourceLogs":[{"resource":{`...)
	res := rl.Resource()
	sep := false
	if a := res.Attributes(); a.Len() > 0 {
		dst = append(dst, `"attributes":`...)
		dst = appendKVs(dst, a)
		sep = true
	}
	if n := res.DroppedAttributesCount(); n != 0 {
		dst = comma(dst, sep)
		dst = append(dst, `"droppedAttributesCount":`...)
		dst = strconv.AppendUint(dst, uint64(n), 10)
	}
	dst = append(dst, `},"scopeLogs":[{"scope":{`...)
	sc := sl.Scope()
	sep = false
	if s := sc.Name(); s != "" {
		dst = append(dst, `"name":`...)
		dst = jsonstr.Append(dst, s)
		sep = true
	}
	if s := sc.Version(); s != "" {
		dst = comma(dst, sep)
		dst = append(dst, `"version":`...)
		dst = jsonstr.Append(dst, s)
		sep = true
	}
	if a := sc.Attributes(); a.Len() > 0 {
		dst = comma(dst, sep)
		dst = append(dst, `"attributes":`...)
		dst = appendKVs(dst, a)
		sep = true
	}
	if n := sc.DroppedAttributesCount(); n != 0 {
		dst = comma(dst, sep)
		dst = append(dst, `"droppedAttributesCount":`...)
		dst = strconv.AppendUint(dst, uint64(n), 10)
	}
	dst = append(dst, `},"logRecords":[`...)
	dst = appendRecord(dst, lr)
	dst = append(dst, ']')
	if s := sl.SchemaUrl(); s != "" {
		dst = append(dst, `,"schemaUrl":`...)
		dst = jsonstr.Append(dst, s)
	}
	dst = append(dst, "}]"...)
	if s := rl.SchemaUrl(); s != "" {
		dst = append(dst, `,"schemaUrl":`...)
		dst = jsonstr.Append(dst, s)
	}
	return append(dst, "}]}"...)
}

func appendRecord(dst []byte, lr plog.LogRecord) []byte {
	dst = append(dst, '{')
	if t := lr.Timestamp(); t != 0 {
		dst = append(dst, `"timeUnixNano":"`...)
		dst = strconv.AppendUint(dst, uint64(t), 10)
		dst = append(dst, `",`...)
	}
	if t := lr.ObservedTimestamp(); t != 0 {
		dst = append(dst, `"observedTimeUnixNano":"`...)
		dst = strconv.AppendUint(dst, uint64(t), 10)
		dst = append(dst, `",`...)
	}
	if n := lr.SeverityNumber(); n != 0 {
		dst = append(dst, `"severityNumber":`...)
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, ',')
	}
	if s := lr.SeverityText(); s != "" {
		dst = append(dst, `"severityText":`...)
		dst = jsonstr.Append(dst, s)
		dst = append(dst, ',')
	}
	dst = append(dst, `"body":`...)
	dst = appendAnyValue(dst, lr.Body())
	if a := lr.Attributes(); a.Len() > 0 {
		dst = append(dst, `,"attributes":`...)
		dst = appendKVs(dst, a)
	}
	if n := lr.DroppedAttributesCount(); n != 0 {
		dst = append(dst, `,"droppedAttributesCount":`...)
		dst = strconv.AppendUint(dst, uint64(n), 10)
	}
	if f := lr.Flags(); f != 0 {
		dst = append(dst, `,"flags":`...)
		dst = strconv.AppendUint(dst, uint64(f), 10)
	}
	if id := lr.TraceID(); !id.IsEmpty() {
		dst = append(dst, `,"traceId":"`...)
		dst = hex.AppendEncode(dst, id[:])
		dst = append(dst, '"')
	}
	if id := lr.SpanID(); !id.IsEmpty() {
		dst = append(dst, `,"spanId":"`...)
		dst = hex.AppendEncode(dst, id[:])
		dst = append(dst, '"')
	}
	if s := lr.EventName(); s != "" {
		dst = append(dst, `,"eventName":`...)
		dst = jsonstr.Append(dst, s)
	}
	return append(dst, '}')
}

func comma(dst []byte, sep bool) []byte {
	if sep {
		return append(dst, ',')
	}
	return dst
}

func appendKVs(dst []byte, m pcommon.Map) []byte {
	dst = append(dst, '[')
	first := true
	for k, v := range m.All() {
		dst = comma(dst, !first)
		first = false
		dst = append(dst, '{')
		if k != "" { // pdata leaves an empty key out (its zero value)
			dst = append(dst, `"key":`...)
			dst = jsonstr.Append(dst, k)
			dst = append(dst, ',')
		}
		dst = append(dst, `"value":`...)
		dst = appendAnyValue(dst, v)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func appendAnyValue(dst []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		dst = append(dst, `{"stringValue":`...)
		dst = jsonstr.Append(dst, v.Str())
	case pcommon.ValueTypeBool:
		dst = append(dst, `{"boolValue":`...)
		dst = strconv.AppendBool(dst, v.Bool())
	case pcommon.ValueTypeInt:
		dst = append(dst, `{"intValue":"`...)
		dst = strconv.AppendInt(dst, v.Int(), 10)
		dst = append(dst, '"')
	case pcommon.ValueTypeDouble:
		dst = append(dst, `{"doubleValue":`...)
		switch f := v.Double(); {
		case math.IsNaN(f):
			dst = append(dst, `"NaN"`...)
		case math.IsInf(f, 1):
			dst = append(dst, `"Infinity"`...)
		case math.IsInf(f, -1):
			dst = append(dst, `"-Infinity"`...)
		default:
			dst = appendFloat(dst, f)
		}
	case pcommon.ValueTypeBytes:
		dst = append(dst, `{"bytesValue":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v.Bytes().AsRaw())
		dst = append(dst, '"')
	case pcommon.ValueTypeSlice:
		dst = append(dst, `{"arrayValue":{"values":[`...)
		s := v.Slice()
		for i := range s.Len() {
			dst = comma(dst, i > 0)
			dst = appendAnyValue(dst, s.At(i))
		}
		dst = append(dst, "]}"...)
	case pcommon.ValueTypeMap:
		dst = append(dst, `{"kvlistValue":{"values":`...)
		dst = appendKVs(dst, v.Map())
		dst = append(dst, '}')
	default: // empty
		return append(dst, "{}"...)
	}
	return append(dst, '}')
}

// appendFloat formats a double as pdata's JSON stream does: plain decimal
// notation, exponent notation below 1e-6 and from 1e21 on (both forms
// read back as the same value; this keeps the bytes pdata's).
func appendFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(dst, f, format, -1, 64)
}
