package push

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// appendOTLPJSON appends one record as an OTLP-JSON LogsData document
// holding just it (resource, scope, record), the same document
// plog.JSONMarshaler makes of a one-record Logs, without '\n'. It writes
// into dst directly: no intermediate stream, no per-field allocation.
// Unlike pdata it replaces invalid UTF-8 with U+FFFD (valid JSON text).
// (Resource entity references, an experimental field without public
// accessors, are not carried.)
func appendOTLPJSON(dst []byte, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) []byte {
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
		dst = appendJSONString(dst, s)
		sep = true
	}
	if s := sc.Version(); s != "" {
		dst = comma(dst, sep)
		dst = append(dst, `"version":`...)
		dst = appendJSONString(dst, s)
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
		dst = appendJSONString(dst, s)
	}
	dst = append(dst, "}]"...)
	if s := rl.SchemaUrl(); s != "" {
		dst = append(dst, `,"schemaUrl":`...)
		dst = appendJSONString(dst, s)
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
		dst = appendJSONString(dst, s)
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
		dst = appendJSONString(dst, s)
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
		dst = append(dst, `{"key":`...)
		dst = appendJSONString(dst, k)
		dst = append(dst, `,"value":`...)
		dst = appendAnyValue(dst, v)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func appendAnyValue(dst []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		dst = append(dst, `{"stringValue":`...)
		dst = appendJSONString(dst, v.Str())
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
			dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
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

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\uFFFD"...) // as pdata writes it: the character itself
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
