package push

import (
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/otlprecord"
	jobs "github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"
)

// DefaultCFJS1Format is the cfjs1 "format" of a record that carries no
// cfjs1.format attribute.
const DefaultCFJS1Format = "log"

// bufPool holds encode buffers: a batch is encoded into one reused buffer
// and written with one call, not one allocation and write per record.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 16<<20 { // let an outsized batch's buffer go
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// appendBatch appends the batch's lines, in the given format (jobs.FormatNDJSON
// or jobs.FormatCFJS1), to dst.
func appendBatch(dst []byte, format string, b *Batch) ([]byte, error) {
	if format == jobs.FormatCFJS1 {
		return appendCFJS1(dst, b), nil
	}
	return appendNDJSON(dst, b)
}

// appendNDJSON appends one OTLP-JSON LogsData line per record.
func appendNDJSON(dst []byte, b *Batch) ([]byte, error) {
	return decodeBatch(dst, b, func(dst []byte, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) []byte {
		dst = otlprecord.AppendJSON(dst, rl, sl, lr)
		return append(dst, '\n')
	}), nil
}

// appendCFJS1 appends one cfjs1 line per record. Every payload is a whole
// LogsData message, and protobuf merges concatenated messages by appending
// their repeated fields, so the batch is decoded with a single unmarshal of
// the concatenated payloads; only when that fails is it decoded record by
// record, to mark the undecodable ones.
func appendCFJS1(dst []byte, b *Batch) []byte {
	return decodeBatch(dst, b, appendCFJS1Line)
}

type lineFunc func(dst []byte, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) []byte

// decodeBatch decodes the batch's payloads and appends line(record) for
// each. Every payload is a whole LogsData message, and protobuf merges
// concatenated messages by appending their repeated fields, so the batch
// is decoded with one unmarshal of the concatenated payloads; only when
// that fails is it decoded record by record, to mark the undecodable ones.
func decodeBatch(dst []byte, b *Batch, line lineFunc) []byte {
	cat := getBuf()
	defer putBuf(cat)
	for _, r := range b.Records {
		*cat = append(*cat, r.Payload...)
	}
	var u plog.ProtoUnmarshaler
	if ld, err := u.UnmarshalLogs(*cat); err == nil && ld.LogRecordCount() == len(b.Records) {
		return appendLogs(dst, ld, line)
	}
	for _, r := range b.Records {
		ld, err := u.UnmarshalLogs(r.Payload)
		if err != nil {
			dst = fmt.Appendf(dst, "{\"undecodable_offset\":%d}\n", r.Offset)
			continue
		}
		dst = appendLogs(dst, ld, line)
	}
	return dst
}

func appendLogs(dst []byte, ld plog.Logs, line lineFunc) []byte {
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			sl := sls.At(j)
			recs := sl.LogRecords()
			for k := range recs.Len() {
				dst = line(dst, rl, sl, recs.At(k))
			}
		}
	}
	return dst
}

func appendCFJS1Line(dst []byte, rl plog.ResourceLogs, sl plog.ScopeLogs, rec plog.LogRecord) []byte {
	format := DefaultCFJS1Format
	if v, ok := rec.Attributes().Get(logattr.CFJS1Format); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
		format = v.Str()
	}
	return cfjs1.AppendLine(dst, format, format, rl.Resource(), sl.Scope(), rec, "")
}
