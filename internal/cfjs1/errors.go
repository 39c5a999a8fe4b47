package cfjs1

import (
	"errors"
	"fmt"
)

// The causes of a refused line. Every error Decode returns wraps exactly one
// of them (errors.Is), so a caller can count a refusal by its cause without
// reading messages; DropReason names them for metrics.
var (
	// ErrInvalidJSON: the line is not valid JSON (a syntax error at the
	// byte the error names).
	ErrInvalidJSON = errors.New("not valid JSON")
	// ErrNotARecord: the JSON read so far is valid but is not a cfjs1 record
	// (no format or wrapper, a field of the wrong type, a wrapper other than
	// the one configured for the format, ...). The line is refused at its
	// first fault, so a line that is both would be counted by the first met.
	ErrNotARecord = errors.New("not a cfjs1 record")
	// ErrTooManyMembers: an object has more members than Limits.MaxMembers.
	ErrTooManyMembers = errors.New("too many members in an object")
	// ErrTooManyValues: the line has more values than Limits.MaxValues.
	ErrTooManyValues = errors.New("too many values in the line")
	// ErrTooDeep: values nest deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("nesting too deep")
)

// The reasons DropReason returns: short, stable names for a metric
// attribute.
const (
	ReasonInvalidJSON    = "invalid_json"
	ReasonNotARecord     = "not_a_record"
	ReasonTooManyMembers = "too_many_members"
	ReasonTooManyValues  = "too_many_values"
	ReasonTooDeep        = "too_deep"
	ReasonDecodeError    = "decode_error"
)

// DropReason maps an error of Decode to the reason a line is counted as
// dropped: one of the Reason constants. An error that is none of the
// causes above (there is none today; the name is kept for what a caller
// adds) is ReasonDecodeError; nil is "".
func DropReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrInvalidJSON):
		return ReasonInvalidJSON
	case errors.Is(err, ErrNotARecord):
		return ReasonNotARecord
	case errors.Is(err, ErrTooManyMembers):
		return ReasonTooManyMembers
	case errors.Is(err, ErrTooManyValues):
		return ReasonTooManyValues
	case errors.Is(err, ErrTooDeep):
		return ReasonTooDeep
	}
	return ReasonDecodeError
}

// SyntaxError reports a line refused at a byte: where, why in words, and the
// cause (one of the Err variables above).
type SyntaxError struct {
	Offset int
	Msg    string
	Cause  error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("cfjs1: byte %d: %s", e.Offset, e.Msg)
}

func (e *SyntaxError) Unwrap() error { return e.Cause }

// recordError is a line refused as a whole (no format, a wrapper that does
// not match): it has no byte to name.
type recordError struct{ msg string }

func (e *recordError) Error() string { return "cfjs1: " + e.msg }
func (e *recordError) Unwrap() error { return ErrNotARecord }

func notARecord(format string, args ...any) error {
	return &recordError{msg: fmt.Sprintf(format, args...)}
}

// fail is a JSON syntax error at byte i.
func (d *decoder) fail(i int, msg string) error {
	return &SyntaxError{Offset: i, Msg: msg, Cause: ErrInvalidJSON}
}

// failRecord is valid JSON at byte i that is not what a cfjs1 record has
// there.
func (d *decoder) failRecord(i int, msg string) error {
	return &SyntaxError{Offset: i, Msg: msg, Cause: ErrNotARecord}
}

// failLimit is a line that goes over one of the decoder's Limits at byte i.
func (d *decoder) failLimit(i int, cause error, msg string) error {
	return &SyntaxError{Offset: i, Msg: msg, Cause: cause}
}
