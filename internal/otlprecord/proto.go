package otlprecord

import (
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/pdata/plog"
)

// ProtoEncoder writes single-record OTLP protobuf messages. It reuses one
// single-record plog.Logs, so a caller that sets the resource and scope
// once for all their records copies them once; not safe for concurrent use.
//
// The output is plog.ProtoMarshaler's for the one-record Logs: tenant
// buffer segments hold these bytes, and testdata/records-proto.golden
// pins them.
type ProtoEncoder struct {
	scratch plog.Logs
	res     plog.ResourceLogs
	scope   plog.ScopeLogs
	rec     plog.LogRecord
	m       plog.ProtoMarshaler
}

// NewProtoEncoder returns a ProtoEncoder.
func NewProtoEncoder() *ProtoEncoder {
	e := &ProtoEncoder{scratch: plog.NewLogs()}
	e.res = e.scratch.ResourceLogs().AppendEmpty()
	e.scope = e.res.ScopeLogs().AppendEmpty()
	e.rec = e.scope.LogRecords().AppendEmpty()
	return e
}

// SetResource sets the resource (and its schema URL) of what follows.
func (e *ProtoEncoder) SetResource(rl plog.ResourceLogs) {
	rl.Resource().CopyTo(e.res.Resource())
	e.res.SetSchemaUrl(rl.SchemaUrl())
}

// SetScope sets the instrumentation scope (and its schema URL) of what follows.
func (e *ProtoEncoder) SetScope(sl plog.ScopeLogs) {
	sl.Scope().CopyTo(e.scope.Scope())
	e.scope.SetSchemaUrl(sl.SchemaUrl())
}

// Encode returns the message of one record under the current resource and
// scope, in a new slice the caller may keep.
func (e *ProtoEncoder) Encode(lr plog.LogRecord) ([]byte, error) {
	lr.CopyTo(e.rec)
	return e.m.MarshalLogs(e.scratch)
}

// protoPool holds encoders for AppendProto, whose callers have no encoder
// of their own (they may encode concurrently).
var protoPool = sync.Pool{New: func() any { return NewProtoEncoder() }}

// AppendProto appends the message of one record, with its resource and
// scope, to dst. Safe for concurrent use; a caller encoding many records
// of one resource does better with its own ProtoEncoder.
func AppendProto(dst []byte, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) ([]byte, error) {
	e := protoPool.Get().(*ProtoEncoder)
	defer protoPool.Put(e)
	e.SetResource(rl)
	e.SetScope(sl)
	b, err := e.Encode(lr)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// ErrNotOneRecord is returned for a message that does not hold exactly one record.
var ErrNotOneRecord = errors.New("otlprecord: payload does not hold exactly one log record")

// DecodeProto rebuilds the plog.Logs of one single-record message.
func DecodeProto(payload []byte) (plog.Logs, error) {
	var u plog.ProtoUnmarshaler
	ld, err := u.UnmarshalLogs(payload)
	if err != nil {
		return plog.Logs{}, fmt.Errorf("otlprecord: %w", err)
	}
	if ld.LogRecordCount() != 1 {
		return plog.Logs{}, ErrNotOneRecord
	}
	return ld, nil
}
