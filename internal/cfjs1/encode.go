package cfjs1

import (
	"encoding/hex"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/jsonstr"
	"github.com/otelcol-logx/otelcol-logx/internal/jsonvalue"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
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
		dst = jsonvalue.Append(dst, body, jsonvalue.Marked)
	}
	if attrs := rec.Attributes(); attrs.Len() > 0 {
		field(FieldAttributes)
		dst = jsonvalue.AppendMap(dst, attrs, jsonvalue.Marked, logattr.CFJS1Format, logattr.CFJS1DeadLetterFor)
	}
	if attrs := res.Attributes(); attrs.Len() > 0 {
		field(FieldResource)
		dst = jsonvalue.AppendMap(dst, attrs, jsonvalue.Marked)
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
	dst = time.Unix(0, int64(ts)).UTC().AppendFormat(dst, time.RFC3339Nano) //nolint:gosec // G115: pdata timestamps are Unix nanoseconds; time.Unix takes int64
	return append(dst, '"')
}

func appendHex(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = hex.AppendEncode(dst, b)
	return append(dst, '"')
}
