package cfjs1

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"

	"github.com/otelcol-logx/otelcol-logx/internal/jsonstr"
)

// AppendLine appends the cfjs1 line of one record, '\n' included, to dst and
// returns the extended buffer. format is the value of the "format" field and
// wrapper the name of the wrapper field (see Wrappers.Name); deadLetterFor,
// when not empty, marks the line as a dead-letter copy meant for that
// endpoint. The record's own cfjs1.format and cfjs1.dead_letter_for
// attributes are not repeated inside the wrapper: the top-level fields say it.
func AppendLine(dst []byte, format, wrapper string, res pcommon.Resource, scope pcommon.InstrumentationScope, rec plog.LogRecord, deadLetterFor string) []byte {
	dst = append(dst, `{"format":`...)
	dst = jsonstr.Append(dst, format)
	dst = append(dst, ',')
	dst = jsonstr.Append(dst, wrapper)
	dst = append(dst, ":{"...)
	first := true
	field := func(name string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `":`...)
	}
	if ts := rec.Timestamp(); ts != 0 {
		field(FieldTimestamp)
		dst = appendTime(dst, ts)
	}
	if ts := rec.ObservedTimestamp(); ts != 0 {
		field(FieldObservedTimestamp)
		dst = appendTime(dst, ts)
	}
	if s := rec.SeverityText(); s != "" {
		field(FieldSeverity)
		dst = jsonstr.Append(dst, s)
	}
	if n := rec.SeverityNumber(); n != 0 {
		field(FieldSeverityNumber)
		dst = strconv.AppendInt(dst, int64(n), 10)
	}
	if id := rec.TraceID(); !id.IsEmpty() {
		field(FieldTraceID)
		dst = appendHex(dst, id[:])
	}
	if id := rec.SpanID(); !id.IsEmpty() {
		field(FieldSpanID)
		dst = appendHex(dst, id[:])
	}
	if body := rec.Body(); body.Type() != pcommon.ValueTypeEmpty {
		field(FieldMessage)
		dst = appendValue(dst, body)
	}
	if attrs := rec.Attributes(); attrs.Len() > 0 {
		field(FieldAttributes)
		dst = appendMap(dst, attrs, true)
	}
	if attrs := res.Attributes(); attrs.Len() > 0 {
		field(FieldResource)
		dst = appendMap(dst, attrs, false)
	}
	if scope.Name() != "" || scope.Version() != "" {
		field(FieldScope)
		dst = append(dst, `{"name":`...)
		dst = jsonstr.Append(dst, scope.Name())
		dst = append(dst, `,"version":`...)
		dst = jsonstr.Append(dst, scope.Version())
		dst = append(dst, '}')
	}
	dst = append(dst, '}')
	if deadLetterFor != "" {
		dst = append(dst, `,"dead_letter_for":`...)
		dst = jsonstr.Append(dst, deadLetterFor)
	}
	return append(dst, "}\n"...)
}

// AppendDeadLetter appends to dst the dead-letter copy, meant for
// deadLetterFor, of line: a line made by AppendLine without a marker. It is
// how one encoding serves both the original and its copies.
func AppendDeadLetter(dst, line []byte, deadLetterFor string) []byte {
	end := len(line)
	if end > 0 && line[end-1] == '\n' {
		end--
	}
	if end == 0 || line[end-1] != '}' {
		return append(dst, line...) // not ours to rewrite; send as it is
	}
	dst = append(dst, line[:end-1]...)
	dst = append(dst, `,"dead_letter_for":`...)
	dst = jsonstr.Append(dst, deadLetterFor)
	return append(dst, "}\n"...)
}

func appendTime(dst []byte, ts pcommon.Timestamp) []byte {
	dst = append(dst, '"')
	dst = time.Unix(0, int64(ts)).UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

func appendHex(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = hex.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendMap writes m as a JSON object; skipMarkers leaves out the
// attributes that the top-level fields carry.
func appendMap(dst []byte, m pcommon.Map, skipMarkers bool) []byte {
	dst = append(dst, '{')
	first := true
	for k, v := range m.All() {
		if skipMarkers && (k == logattr.CFJS1Format || k == logattr.CFJS1DeadLetterFor) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonstr.Append(dst, k)
		dst = append(dst, ':')
		dst = appendValue(dst, v)
	}
	return append(dst, '}')
}

func appendValue(dst []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return jsonstr.Append(dst, v.Str())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		return appendFloat(dst, v.Double())
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(dst, v.Bool())
	case pcommon.ValueTypeMap:
		return appendMap(dst, v.Map(), false)
	case pcommon.ValueTypeSlice:
		dst = append(dst, '[')
		for i, e := range v.Slice().All() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, e)
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

// appendFloat keeps a double recognisable as one ("1.0", not "1") so that
// the decoder gives it back as a double. JSON has no NaN or infinities:
// those become the strings "NaN", "+Inf", "-Inf".
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Inf"`...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' || c == 'E' {
			return dst
		}
	}
	return append(dst, ".0"...)
}
