// Package cfjs1 is the one codec of the cfjs1 line format shared by the
// cfjs1 exporter and receiver: one JSON object per line with a "format"
// field, a wrapper object named after the format, and an optional
// dead-letter marker. The format is specified in docs/cfjs1.md.
//
// The encoder appends to a caller's buffer without building intermediate
// maps, so encoding a record costs no allocation once the buffer has grown;
// the decoder checks a whole line in a first pass, then writes it into
// pdata in a second, with one allocation for all the line's text.
package cfjs1 // import "github.com/otelcol-logx/otelcol-logx/internal/cfjs1"

// Top-level field names of a cfjs1 line.
const (
	// FieldFormat names the kind of log; it also chooses the wrapper field.
	FieldFormat = "format"
	// FieldDeadLetterFor marks a dead-letter copy and names the endpoint
	// (e.g. "log-b") the record was meant for.
	FieldDeadLetterFor = "dead_letter_for"
)

// Field names inside the wrapper object.
const (
	FieldTimestamp         = "timestamp"
	FieldObservedTimestamp = "observed_timestamp"
	FieldSeverity          = "severity"
	FieldSeverityNumber    = "severity_number"
	FieldMessage           = "message"
	FieldAttributes        = "attributes"
	FieldResource          = "resource"
	FieldScope             = "scope"
	FieldTraceID           = "trace_id"
	FieldSpanID            = "span_id"
)

// Wrappers maps a format to the name of its wrapper field. A format that is
// not in the map is wrapped in a field of its own name.
type Wrappers map[string]string

// Name returns the wrapper field name for format.
func (w Wrappers) Name(format string) string {
	if n, ok := w[format]; ok && n != "" {
		return n
	}
	return format
}
