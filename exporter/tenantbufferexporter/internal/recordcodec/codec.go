// Package recordcodec turns one log record, with its resource and scope,
// into a buffer payload and back. Each payload is a complete OTLP protobuf
// LogsData holding exactly one record, so a reader needs nothing else to
// rebuild it (and the push jobs can re-batch records freely).
package recordcodec // import "github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/recordcodec"

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Encoder reuses one single-record plog.Logs; not safe for concurrent use.
type Encoder struct {
	scratch plog.Logs
	res     plog.ResourceLogs
	scope   plog.ScopeLogs
	rec     plog.LogRecord
	m       plog.ProtoMarshaler
}

// NewEncoder returns an Encoder.
func NewEncoder() *Encoder {
	e := &Encoder{scratch: plog.NewLogs()}
	e.res = e.scratch.ResourceLogs().AppendEmpty()
	e.scope = e.res.ScopeLogs().AppendEmpty()
	e.rec = e.scope.LogRecords().AppendEmpty()
	return e
}

// SetResource sets the resource (and its schema URL) of what follows.
func (e *Encoder) SetResource(rl plog.ResourceLogs) {
	rl.Resource().CopyTo(e.res.Resource())
	e.res.SetSchemaUrl(rl.SchemaUrl())
}

// SetScope sets the instrumentation scope of what follows.
func (e *Encoder) SetScope(sl plog.ScopeLogs) {
	sl.Scope().CopyTo(e.scope.Scope())
	e.scope.SetSchemaUrl(sl.SchemaUrl())
}

// Encode returns the payload of one record under the current resource and scope.
func (e *Encoder) Encode(lr plog.LogRecord) ([]byte, error) {
	lr.CopyTo(e.rec)
	return e.m.MarshalLogs(e.scratch)
}

// ErrNotOneRecord is returned for a payload that does not hold exactly one record.
var ErrNotOneRecord = errors.New("recordcodec: payload does not hold exactly one log record")

// Decode rebuilds the plog.Logs of one payload.
func Decode(payload []byte) (plog.Logs, error) {
	var u plog.ProtoUnmarshaler
	ld, err := u.UnmarshalLogs(payload)
	if err != nil {
		return plog.Logs{}, fmt.Errorf("recordcodec: %w", err)
	}
	if ld.LogRecordCount() != 1 {
		return plog.Logs{}, ErrNotOneRecord
	}
	return ld, nil
}
