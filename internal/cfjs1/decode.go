package cfjs1

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
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
// t is left as it was: the whole line is checked before t is written.
//
// Decoding runs in two passes (see decoder): the first parses and checks
// the line into a reused scratch list and copies the text of every key and
// string value into one buffer; the second makes that buffer one string and
// writes pdata with maps sized exactly, every key and string a substring of
// it. So a line costs one allocation for all its text, plus pdata's own.
func Decode(line []byte, wrappers Wrappers, t Target) (Meta, error) {
	d := decoderPool.Get().(*decoder)
	m, err := d.decode(line, wrappers, t)
	d.release()
	return m, err
}

// decoderPool keeps the scratch of the first pass from line to line.
var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

// Scratch larger than this (from an unusually long line) is not pooled, so
// one such line does not pin its memory for good.
const (
	maxPooledText  = 64 << 10
	maxPooledNodes = 4096
)

func (d *decoder) release() {
	d.b, d.all = nil, ""
	if cap(d.text) > maxPooledText || cap(d.nodes) > maxPooledNodes || cap(d.tmp) > maxPooledText {
		return
	}
	decoderPool.Put(d)
}

// span is the text of a key or string value: d.text[s:e] in the first
// pass, d.all[s:e] in the second.
type span struct{ s, e int }

// A node is one parsed JSON value. A map or slice node is followed by its
// members (n of them), each followed by its own members if it has any.
type node struct {
	kind nodeKind
	dest nodeDest
	key  span  // the member's name, in a map
	val  span  // a string's text
	n    int64 // an int, a bool (0 or 1), a double's bits, or the count of members
}

type nodeKind uint8

const (
	kindNull nodeKind = iota
	kindStr
	kindInt
	kindDouble
	kindBool
	kindMap
	kindSlice
)

// nodeDest says where a value of the wrapped object goes; the members of
// maps and slices have destMember.
type nodeDest uint8

const (
	destMember     nodeDest = iota
	destBody                // "message"
	destRecordAttr          // a field not in the spec: an attribute of its name
	destAttributes          // the "attributes" object, merged into the record's
	destResource            // the "resource" object, merged into the resource's
)

// decoder holds one line's state. Record fields that are set once (the
// last occurrence wins, as in the spec's any-order reading) are kept as
// values; everything that fills maps is kept in nodes, in line order, so
// the second pass makes the same pdata calls, in the same order, as a
// one-pass decoder would.
type decoder struct {
	b   []byte
	i   int
	tmp []byte // scratch for repairing invalid UTF-8

	text  []byte // the unescaped text of every kept key and string
	all   string // text, as one string, in the second pass
	nodes []node

	format, wrapper, deadLetterFor span

	ts, observed              pcommon.Timestamp
	hasTS, hasObserved        bool
	severity                  span
	hasSeverity               bool
	severityNumber            plog.SeverityNumber
	hasSeverityNumber         bool
	traceID                   pcommon.TraceID
	hasTraceID                bool
	spanID                    pcommon.SpanID
	hasSpanID                 bool
	scopeName, scopeVersion   span
	hasScopeName, hasScopeVer bool

	recordAttrs, resourceAttrs int // members bound for each map, to size them once

	// recent lets consecutive lines share the values of their attributes
	// (see fill); kept from line to line, made on first use, and used for
	// lines of up to maxRecentText bytes of text (useRecent).
	recent    *recentValues
	useRecent bool
}

func (d *decoder) reset(line []byte) {
	*d = decoder{b: line, tmp: d.tmp[:0], text: d.text[:0], nodes: d.nodes[:0], recent: d.recent}
}

func (d *decoder) sub(s span) string { return d.all[s.s:s.e] }

func (d *decoder) decode(line []byte, wrappers Wrappers, t Target) (Meta, error) {
	d.reset(line)
	err := d.line()
	// The one allocation for the line's text.
	d.all = string(d.text)
	m := Meta{Format: d.sub(d.format), Wrapper: d.sub(d.wrapper), DeadLetterFor: d.sub(d.deadLetterFor)}
	if err != nil {
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
	d.fill(t, m)
	return m, nil
}

func (d *decoder) fail(msg string) error { return &SyntaxError{Offset: d.i, Msg: msg} }

func (d *decoder) ws() {
	if d.i < len(d.b) && d.b[d.i] > ' ' {
		return // the usual case: no whitespace
	}
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

// An object is read with a loop rather than a callback per member (an
// indirect call per key costs, at a dozen keys a line):
//
//	more, err := d.objectOpen()
//	for more && err == nil {
//		var key span
//		if key, err = d.memberKey(); err == nil {
//			if err = <read the value>; err == nil {
//				more, err = d.memberEnd()
//			}
//		}
//	}
//
// The key's text is in d.text; the reader may drop it by truncating d.text
// to key.s before it parses the value.

// objectOpen consumes '{' (after optional whitespace) and reports whether a
// member follows.
func (d *decoder) objectOpen() (bool, error) {
	if err := d.expect('{'); err != nil {
		return false, err
	}
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return false, nil
	}
	return true, nil
}

// memberKey reads a member's key and its colon, and leaves d.i at the value.
func (d *decoder) memberKey() (span, error) {
	d.ws()
	key, err := d.str()
	if err != nil {
		return span{}, err
	}
	if d.i < len(d.b) && d.b[d.i] == ':' { // the usual "key":value
		d.i++
	} else if err := d.expect(':'); err != nil {
		return span{}, err
	}
	d.ws()
	return key, nil
}

// memberEnd consumes the ',' or '}' after a member's value and reports
// whether another member follows.
func (d *decoder) memberEnd() (bool, error) {
	d.ws()
	if d.i >= len(d.b) {
		return false, d.fail("unexpected end of line inside an object")
	}
	switch d.b[d.i] {
	case ',':
		d.i++
		return true, nil
	case '}':
		d.i++
		return false, nil
	}
	return false, d.fail(fmt.Sprintf("found %q, expected ',' or '}'", d.b[d.i]))
}

// drop forgets text that is not kept (field names of the spec, parsed
// timestamps and ids).
func (d *decoder) drop(s span) { d.text = d.text[:s.s] }

func (d *decoder) bytesOf(s span) []byte { return d.text[s.s:s.e] }

func (d *decoder) line() error {
	more, err := d.objectOpen()
	for more && err == nil {
		var key span
		if key, err = d.memberKey(); err == nil {
			if err = d.lineMember(key); err == nil {
				more, err = d.memberEnd()
			}
		}
	}
	if err != nil {
		return err
	}
	d.ws()
	if d.i != len(d.b) {
		return d.fail("trailing data after the JSON object")
	}
	return nil
}

// lineMember reads a top-level member.
func (d *decoder) lineMember(key span) error {
	switch string(d.bytesOf(key)) {
	case FieldFormat:
		d.drop(key)
		s, err := d.str()
		d.format = s
		return err
	case FieldDeadLetterFor:
		d.drop(key)
		s, err := d.str()
		d.deadLetterFor = s
		return err
	}
	if d.i < len(d.b) && d.b[d.i] != '{' {
		return d.fail(fmt.Sprintf("top-level field %q is not an object: only format, dead_letter_for and the wrapper object belong at the top", d.bytesOf(key)))
	}
	if d.wrapper.e > d.wrapper.s { // an empty name is no wrapper (and is refused below)
		return d.fail(fmt.Sprintf("a second wrapper object %q (the first was %q)", d.bytesOf(key), d.bytesOf(d.wrapper)))
	}
	d.wrapper = key
	return d.wrapped()
}

func (d *decoder) wrapped() error {
	more, err := d.objectOpen()
	for more && err == nil {
		var key span
		if key, err = d.memberKey(); err == nil {
			if err = d.wrappedMember(key); err == nil {
				more, err = d.memberEnd()
			}
		}
	}
	return err
}

// wrappedMember reads a member of the wrapped object.
func (d *decoder) wrappedMember(key span) error {
	switch string(d.bytesOf(key)) {
	case FieldTimestamp:
		d.drop(key)
		ts, err := d.timestamp()
		d.ts, d.hasTS = ts, true
		return err
	case FieldObservedTimestamp:
		d.drop(key)
		ts, err := d.timestamp()
		d.observed, d.hasObserved = ts, true
		return err
	case FieldSeverity:
		d.drop(key)
		s, err := d.str()
		d.severity, d.hasSeverity = s, true
		return err
	case FieldSeverityNumber:
		d.drop(key)
		n, ok := d.smallInt()
		if !ok || n > 24 {
			return d.fail("severity_number must be an integer 0..24")
		}
		d.severityNumber, d.hasSeverityNumber = plog.SeverityNumber(n), true
		return nil
	case FieldTraceID:
		d.drop(key)
		if err := d.hexID(d.traceID[:]); err != nil {
			return err
		}
		d.hasTraceID = true
		return nil
	case FieldSpanID:
		d.drop(key)
		if err := d.hexID(d.spanID[:]); err != nil {
			return err
		}
		d.hasSpanID = true
		return nil
	case FieldMessage:
		d.drop(key)
		return d.value(destBody, span{}, 0)
	case FieldAttributes:
		d.drop(key)
		n, err := d.mapInto(destAttributes, span{}, 1)
		d.recordAttrs += n
		return err
	case FieldResource:
		d.drop(key)
		n, err := d.mapInto(destResource, span{}, 1)
		d.resourceAttrs += n
		return err
	case FieldScope:
		d.drop(key)
		return d.scope()
	}
	// Any other field (a template written for syslog-ng, say) is kept
	// as a record attribute.
	d.recordAttrs++
	return d.value(destRecordAttr, key, 1)
}

// scope reads the "scope" object: name and version; other members must be
// strings too, and are ignored.
func (d *decoder) scope() error {
	more, err := d.objectOpen()
	for more && err == nil {
		var k, s span
		if k, err = d.memberKey(); err == nil {
			s, err = d.str()
			switch string(d.bytesOf(k)) {
			case "name":
				d.scopeName, d.hasScopeName = s, true
			case "version":
				d.scopeVersion, d.hasScopeVer = s, true
			}
			if err == nil {
				more, err = d.memberEnd()
			}
		}
	}
	return err
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
	sp, err := d.str()
	if err != nil {
		return 0, err
	}
	s := d.bytesOf(sp)
	defer d.drop(sp)
	if ts, ok := parseUTCTimestamp(s); ok {
		return ts, nil
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
	sp, err := d.str()
	if err != nil {
		return err
	}
	s := d.bytesOf(sp)
	defer d.drop(sp)
	if hex.DecodedLen(len(s)) != len(dst) {
		return d.fail(fmt.Sprintf("an id of %d bytes needs %d hex digits", len(dst), 2*len(dst)))
	}
	if _, err := hex.Decode(dst, s); err != nil {
		return d.fail("id is not hex")
	}
	return nil
}

// push appends a node and returns its index (not a pointer: later appends
// may move the slice).
func (d *decoder) push(n node) int {
	d.nodes = append(d.nodes, n)
	return len(d.nodes) - 1
}

// mapInto parses an object into a map node and returns its member count.
func (d *decoder) mapInto(dest nodeDest, key span, depth int) (int, error) {
	if depth > maxDepth {
		return 0, d.fail("nesting deeper than 64 levels")
	}
	at := d.push(node{kind: kindMap, dest: dest, key: key})
	n := 0
	more, err := d.objectOpen()
	for more && err == nil {
		var k span
		if k, err = d.memberKey(); err == nil {
			n++
			if err = d.value(destMember, k, depth+1); err == nil {
				more, err = d.memberEnd()
			}
		}
	}
	d.nodes[at].n = int64(n)
	return n, err
}

// value parses any JSON value into a node (and its members).
func (d *decoder) value(dest nodeDest, key span, depth int) error {
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
		d.push(node{kind: kindStr, dest: dest, key: key, val: s})
		return err
	case c == '{':
		_, err := d.mapInto(dest, key, depth)
		return err
	case c == '[':
		d.i++
		at := d.push(node{kind: kindSlice, dest: dest, key: key})
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return nil
		}
		for {
			d.nodes[at].n++
			if err := d.value(destMember, span{}, depth+1); err != nil {
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
		d.push(node{kind: kindBool, dest: dest, key: key, n: 1})
		return d.literal("true")
	case c == 'f':
		d.push(node{kind: kindBool, dest: dest, key: key, n: 0})
		return d.literal("false")
	case c == 'n':
		d.push(node{kind: kindNull, dest: dest, key: key})
		return d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number(dest, key)
	default:
		return d.fail(fmt.Sprintf("found %q, expected a value", c))
	}
}

func (d *decoder) literal(word string) error {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return d.fail("invalid literal, expected " + word)
	}
	d.i += len(word)
	return nil
}

func (d *decoder) number(dest nodeDest, key span) error {
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
		if n, ok := parseInt64(text); ok {
			d.push(node{kind: kindInt, dest: dest, key: key, n: n})
			return nil
		}
	}
	// The conversion does not allocate: the string does not escape.
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil && !(errors.Is(err, strconv.ErrRange) && !math.IsNaN(f)) {
		return &SyntaxError{Offset: start, Msg: fmt.Sprintf("invalid number %q", text)}
	}
	d.push(node{kind: kindDouble, dest: dest, key: key, n: int64(math.Float64bits(f))})
	return nil
}

// parseInt64 reads -?[0-9]+ (already checked by number) as an int64; false
// when it does not fit, and the number is then read as a double.
func parseInt64(text []byte) (int64, bool) {
	neg := text[0] == '-'
	if neg {
		text = text[1:]
	}
	if len(text) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range text {
		u = u*10 + uint64(c-'0') // 19 digits cannot overflow a uint64
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true // -(1<<63) wraps to itself: math.MinInt64
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}
