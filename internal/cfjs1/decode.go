package cfjs1

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// maxDepth bounds the nesting of JSON values, so a hostile line cannot
// exhaust the stack.
const maxDepth = 64

// Target is where Decode writes a line: the record, and the resource and
// scope it belongs to.
type Target struct {
	Resource pcommon.Resource
	Scope    pcommon.InstrumentationScope
	Record   plog.LogRecord
}

// Meta is what a line says about itself, beside the record.
type Meta struct {
	Format        string
	Wrapper       string
	DeadLetterFor string
}

// SyntaxError reports a line that is not a cfjs1 line.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("cfjs1: byte %d: %s", e.Offset, e.Msg)
}

// Decode parses one cfjs1 line (a trailing "\n" or "\r\n" is allowed) into
// t. The record gets the attributes cfjs1.format and, for a dead-letter copy,
// cfjs1.dead_letter_for. wrappers, if not nil, is checked: a wrapper field
// other than the one configured for the line's format is an error. On error
// t may hold part of the line.
func Decode(line []byte, wrappers Wrappers, t Target) (Meta, error) {
	d := decoder{b: line}
	var m Meta
	if err := d.line(&m, t); err != nil {
		return m, err
	}
	if m.Format == "" {
		return m, errors.New(`cfjs1: the line has no "format" field (or it is empty)`)
	}
	if m.Wrapper == "" {
		return m, fmt.Errorf("cfjs1: the line has no wrapper object (format %q)", m.Format)
	}
	if wrappers != nil {
		if want := wrappers.Name(m.Format); want != m.Wrapper {
			return m, fmt.Errorf("cfjs1: format %q is wrapped in %q, expected %q", m.Format, m.Wrapper, want)
		}
	}
	attrs := t.Record.Attributes()
	attrs.PutStr(logattr.CFJS1Format, m.Format)
	if m.DeadLetterFor != "" {
		attrs.PutStr(logattr.CFJS1DeadLetterFor, m.DeadLetterFor)
	}
	return m, nil
}

type decoder struct {
	b   []byte
	i   int
	tmp []byte // unescaping scratch
}

func (d *decoder) fail(msg string) error { return &SyntaxError{Offset: d.i, Msg: msg} }

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

// expect consumes c after optional whitespace.
func (d *decoder) expect(c byte) error {
	d.ws()
	if d.i >= len(d.b) {
		return d.fail(fmt.Sprintf("unexpected end of line, expected %q", c))
	}
	if d.b[d.i] != c {
		return d.fail(fmt.Sprintf("found %q, expected %q", d.b[d.i], c))
	}
	d.i++
	return nil
}

// object calls member for each key of the object starting at d.i; member
// must consume the value.
func (d *decoder) object(member func(key []byte) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		d.ws()
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		d.ws()
		if err := member(key); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return d.fail("unexpected end of line inside an object")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.fail(fmt.Sprintf("found %q, expected ',' or '}'", d.b[d.i]))
		}
	}
}

func (d *decoder) line(m *Meta, t Target) error {
	err := d.object(func(key []byte) error {
		switch string(key) {
		case FieldFormat:
			s, err := d.str()
			m.Format = string(s)
			return err
		case FieldDeadLetterFor:
			s, err := d.str()
			m.DeadLetterFor = string(s)
			return err
		}
		if d.i < len(d.b) && d.b[d.i] != '{' {
			return d.fail(fmt.Sprintf("top-level field %q is not an object: only format, dead_letter_for and the wrapper object belong at the top", key))
		}
		if m.Wrapper != "" {
			return d.fail(fmt.Sprintf("a second wrapper object %q (the first was %q)", key, m.Wrapper))
		}
		m.Wrapper = string(key)
		return d.wrapped(t)
	})
	if err != nil {
		return err
	}
	d.ws()
	if d.i != len(d.b) {
		return d.fail("trailing data after the JSON object")
	}
	return nil
}

func (d *decoder) wrapped(t Target) error {
	rec := t.Record
	return d.object(func(key []byte) error {
		switch string(key) {
		case FieldTimestamp, FieldObservedTimestamp:
			isTimestamp := string(key) == FieldTimestamp // key may be reused by d.str
			ts, err := d.timestamp()
			if err != nil {
				return err
			}
			if isTimestamp {
				rec.SetTimestamp(ts)
			} else {
				rec.SetObservedTimestamp(ts)
			}
			return nil
		case FieldSeverity:
			s, err := d.str()
			rec.SetSeverityText(string(s))
			return err
		case FieldSeverityNumber:
			n, ok := d.smallInt()
			if !ok || n > 24 {
				return d.fail("severity_number must be an integer 0..24")
			}
			rec.SetSeverityNumber(plog.SeverityNumber(n))
			return nil
		case FieldTraceID:
			var id pcommon.TraceID
			if err := d.hexID(id[:]); err != nil {
				return err
			}
			rec.SetTraceID(id)
			return nil
		case FieldSpanID:
			var id pcommon.SpanID
			if err := d.hexID(id[:]); err != nil {
				return err
			}
			rec.SetSpanID(id)
			return nil
		case FieldMessage:
			return d.value(rec.Body(), 0)
		case FieldAttributes:
			return d.mapInto(rec.Attributes(), 1)
		case FieldResource:
			return d.mapInto(t.Resource.Attributes(), 1)
		case FieldScope:
			return d.object(func(k []byte) error {
				name := string(k) // k may be reused by d.str
				s, err := d.str()
				switch name {
				case "name":
					t.Scope.SetName(string(s))
				case "version":
					t.Scope.SetVersion(string(s))
				}
				return err
			})
		}
		// Any other field (a template written for syslog-ng, say) is kept
		// as a record attribute.
		return d.value(rec.Attributes().PutEmpty(internKey(key)), 1)
	})
}

func (d *decoder) timestamp() (pcommon.Timestamp, error) {
	if d.i < len(d.b) && d.b[d.i] != '"' {
		// Unix nanoseconds as a number.
		n, ok := d.smallInt()
		if !ok {
			return 0, d.fail("a timestamp is an RFC 3339 string or a non-negative integer of Unix nanoseconds")
		}
		return pcommon.Timestamp(n), nil
	}
	s, err := d.str()
	if err != nil {
		return 0, err
	}
	tm, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return 0, d.fail(fmt.Sprintf("timestamp %q is not RFC 3339", s))
	}
	return pcommon.NewTimestampFromTime(tm), nil
}

// smallInt reads a non-negative JSON integer that fits in an int64.
func (d *decoder) smallInt() (uint64, bool) {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	if d.i == start || d.i-start > 18 || (d.b[start] == '0' && d.i-start > 1) {
		return 0, false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, false
	}
	var n uint64
	for _, c := range d.b[start:d.i] {
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func (d *decoder) hexID(dst []byte) error {
	s, err := d.str()
	if err != nil {
		return err
	}
	if hex.DecodedLen(len(s)) != len(dst) {
		return d.fail(fmt.Sprintf("an id of %d bytes needs %d hex digits", len(dst), 2*len(dst)))
	}
	if _, err := hex.Decode(dst, s); err != nil {
		return d.fail("id is not hex")
	}
	return nil
}

func (d *decoder) mapInto(m pcommon.Map, depth int) error {
	if depth > maxDepth {
		return d.fail("nesting deeper than 64 levels")
	}
	if m.Len() == 0 {
		// One allocation for a typical record instead of growing 1, 2, 4, 8.
		m.EnsureCapacity(12)
	}
	return d.object(func(key []byte) error {
		return d.value(m.PutEmpty(internKey(key)), depth+1)
	})
}

// value parses any JSON value into v.
func (d *decoder) value(v pcommon.Value, depth int) error {
	if depth > maxDepth {
		return d.fail("nesting deeper than 64 levels")
	}
	d.ws()
	if d.i >= len(d.b) {
		return d.fail("unexpected end of line, expected a value")
	}
	switch c := d.b[d.i]; {
	case c == '"':
		s, err := d.str()
		v.SetStr(string(s))
		return err
	case c == '{':
		return d.mapInto(v.SetEmptyMap(), depth)
	case c == '[':
		d.i++
		sl := v.SetEmptySlice()
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return nil
		}
		for {
			if err := d.value(sl.AppendEmpty(), depth+1); err != nil {
				return err
			}
			d.ws()
			if d.i >= len(d.b) {
				return d.fail("unexpected end of line inside an array")
			}
			switch d.b[d.i] {
			case ',':
				d.i++
			case ']':
				d.i++
				return nil
			default:
				return d.fail(fmt.Sprintf("found %q, expected ',' or ']'", d.b[d.i]))
			}
		}
	case c == 't':
		return d.literal("true", func() { v.SetBool(true) })
	case c == 'f':
		return d.literal("false", func() { v.SetBool(false) })
	case c == 'n':
		return d.literal("null", func() {})
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number(v)
	default:
		return d.fail(fmt.Sprintf("found %q, expected a value", c))
	}
}

func (d *decoder) literal(word string, set func()) error {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return d.fail("invalid literal, expected " + word)
	}
	d.i += len(word)
	set()
	return nil
}

func (d *decoder) number(v pcommon.Value) error {
	start := d.i
	isFloat := false
	if d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c >= '0' && c <= '9':
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
			isFloat = true
		default:
			goto done
		}
		d.i++
	}
done:
	text := d.b[start:d.i]
	if d.i == digits || (d.b[digits] == '0' && d.i > digits+1 && d.b[digits+1] >= '0' && d.b[digits+1] <= '9') {
		return &SyntaxError{Offset: start, Msg: fmt.Sprintf("invalid number %q", text)}
	}
	if !isFloat {
		if n, err := strconv.ParseInt(string(text), 10, 64); err == nil {
			v.SetInt(n)
			return nil
		}
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil && !(errors.Is(err, strconv.ErrRange) && !math.IsNaN(f)) {
		return &SyntaxError{Offset: start, Msg: fmt.Sprintf("invalid number %q", text)}
	}
	v.SetDouble(f)
	return nil
}

// str parses a JSON string and returns its content, unescaped. The result
// points into the line or into d.tmp: valid until the next call. Invalid
// UTF-8 is replaced by U+FFFD (pdata strings must be valid UTF-8 to be sent
// on as OTLP).
func (d *decoder) str() ([]byte, error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, d.fail("expected a string")
	}
	d.i++
	start := d.i
	rest := d.b[start:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		d.i = len(d.b)
		return nil, d.fail("unterminated string")
	}
	if bs := bytes.IndexByte(rest[:end], '\\'); bs >= 0 {
		d.i = start + bs
		return d.escapedStr(start)
	}
	s := rest[:end]
	for j, c := range s {
		if c < 0x20 {
			d.i = start + j
			return nil, d.fail("control character inside a string")
		}
	}
	d.i = start + end + 1
	if !utf8.Valid(s) {
		d.tmp = appendValidUTF8(d.tmp[:0], s)
		return d.tmp, nil
	}
	return s, nil
}

func (d *decoder) escapedStr(start int) ([]byte, error) {
	out := append(d.tmp[:0], d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(out) {
				out = appendValidUTF8(nil, out)
			}
			d.tmp = out
			return out, nil
		case c < 0x20:
			return nil, d.fail("control character inside a string")
		case c != '\\':
			out = append(out, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			break
		}
		e := d.b[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return nil, d.fail(`invalid \u escape`)
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
					save := d.i
					d.i += 2
					if lo, ok := d.hex4(); ok {
						if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
							r2 = dec
						} else {
							d.i = save
						}
					} else {
						return nil, d.fail(`invalid \u escape`)
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, d.fail(fmt.Sprintf(`invalid escape \%c`, e))
		}
	}
	return nil, d.fail("unterminated string")
}

func (d *decoder) hex4() (rune, bool) {
	if len(d.b)-d.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.i += 4
	return r, true
}

func appendValidUTF8(dst, s []byte) []byte {
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\ufffd"...)
		} else {
			dst = append(dst, s[:size]...)
		}
		s = s[size:]
	}
	return dst
}

// knownKeys are attribute names every otelcol-logx host writes: decoding
// them costs no allocation for the name.
var knownKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		logattr.Service, logattr.HostName, logattr.SyslogFacility, logattr.SyslogHostname,
		logattr.SyslogAppName, logattr.SyslogProcID, logattr.SyslogMsgID, logattr.SyslogVersion,
		logattr.PeerPID, logattr.PeerUID, logattr.PeerGID, logattr.SystemdUnit, logattr.Tenant,
		logattr.CFJS1Format, logattr.CFJS1DeadLetterFor,
		"service.name", "service.instance.id", "host.id", "os.type", "log.file.name", "log.iostream",
	} {
		m[k] = k
	}
	return m
}()

func internKey(b []byte) string {
	if k, ok := knownKeys[string(b)]; ok { // no allocation: lookup by []byte
		return k
	}
	return string(b)
}
