package cfjs1

import (
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The first pass. Every reader takes the position in the line, i, and
// returns where it stopped: the position lives in registers, not in the
// decoder, because a field written and read back at each step is a trip
// through memory on the parser's critical path (that alone cost about
// 0.1 µs a line). An error carries its own position.
//
// An object is read with a loop rather than a callback per member (an
// indirect call per key costs, at a dozen keys a line):
//
//	i, more, err := d.objectOpen(i)
//	for more && err == nil {
//		var key span
//		if i, key, err = d.memberKey(i); err == nil {
//			if i, err = <read the value at i>; err == nil {
//				i, more, err = d.memberEnd(i)
//			}
//		}
//	}
//
// The key's text is in d.text; the reader may drop it (d.drop) before it
// parses the value.

// skipWS returns the position of the first byte at or after i that is not
// JSON whitespace.
func skipWS(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// expect consumes c after optional whitespace.
func (d *decoder) expect(i int, c byte) (int, error) {
	i = skipWS(d.b, i)
	if i >= len(d.b) {
		return i, d.fail(i, fmt.Sprintf("unexpected end of line, expected %q", c))
	}
	if d.b[i] != c {
		return i, d.fail(i, fmt.Sprintf("found %q, expected %q", d.b[i], c))
	}
	return i + 1, nil
}

// objectOpen consumes '{' (after optional whitespace) and reports whether a
// member follows; it stops at the member's key.
func (d *decoder) objectOpen(i int) (int, bool, error) {
	i, err := d.expect(i, '{')
	if err != nil {
		return i, false, err
	}
	i = skipWS(d.b, i)
	if i < len(d.b) && d.b[i] == '}' {
		return i + 1, false, nil
	}
	return i, true, nil
}

// memberKey reads a member's key and its colon, and stops at the value
// (whitespace skipped).
func (d *decoder) memberKey(i int) (int, span, error) {
	b := d.b
	i = skipWS(b, i)
	// The usual member, "plain key": its key is a span of the line.
	if i < len(b) && b[i] == '"' {
		start := i + 1
		end := start + plainPrefix(b[start:])
		if end+1 < len(b) && b[end] == '"' && b[end+1] == ':' {
			return skipWS(b, end+2), span{start, end}, nil
		}
	}
	i, key, err := d.str(i)
	if err != nil {
		return i, span{}, err
	}
	if i, err = d.expect(i, ':'); err != nil {
		return i, span{}, err
	}
	return skipWS(b, i), key, nil
}

// memberEnd consumes the ',' or '}' after a member's value and reports
// whether another member follows.
func (d *decoder) memberEnd(i int) (int, bool, error) {
	i = skipWS(d.b, i)
	if i >= len(d.b) {
		return i, false, d.fail(i, "unexpected end of line inside an object")
	}
	switch d.b[i] {
	case ',':
		return i + 1, true, nil
	case '}':
		return i + 1, false, nil
	}
	return i, false, d.fail(i, fmt.Sprintf("found %q, expected ',' or '}'", d.b[i]))
}

// drop forgets text that is not kept (field names of the spec, parsed
// timestamps and ids) when it was appended; s must be the last appended.
func (d *decoder) drop(s span) {
	if s.s >= d.base {
		d.text = d.text[:s.s]
	}
}

func (d *decoder) bytesOf(s span) []byte { return d.text[s.s:s.e] }

// parse is the first pass over the whole line.
func (d *decoder) parse() error {
	i, more, err := d.objectOpen(0)
	for n := 1; more && err == nil; n++ {
		if n > d.lim.MaxMembers {
			return d.tooManyMembers(i)
		}
		var key span
		if i, key, err = d.memberKey(i); err == nil {
			if i, err = d.lineMember(i, key); err == nil {
				i, more, err = d.memberEnd(i)
			}
		}
	}
	if err != nil {
		return err
	}
	if i = skipWS(d.b, i); i != len(d.b) {
		return d.fail(i, "trailing data after the JSON object")
	}
	return nil
}

// lineMember reads a top-level member.
func (d *decoder) lineMember(i int, key span) (int, error) {
	var err error
	switch string(d.bytesOf(key)) {
	case FieldFormat:
		d.drop(key)
		i, d.format, err = d.str(i)
		return i, err
	case FieldDeadLetterFor:
		d.drop(key)
		i, d.deadLetterFor, err = d.str(i)
		return i, err
	}
	if i < len(d.b) && d.b[i] != '{' {
		return i, d.failRecord(i, fmt.Sprintf("top-level field %q is not an object: only format, dead_letter_for and the wrapper object belong at the top", d.bytesOf(key)))
	}
	if d.wrapper.e > d.wrapper.s { // an empty name is no wrapper (and is refused later)
		return i, d.failRecord(i, fmt.Sprintf("a second wrapper object %q (the first was %q)", d.bytesOf(key), d.bytesOf(d.wrapper)))
	}
	d.wrapper = key
	return d.wrapped(i)
}

func (d *decoder) wrapped(i int) (int, error) {
	i, more, err := d.objectOpen(i)
	for n := 1; more && err == nil; n++ {
		if n > d.lim.MaxMembers {
			return i, d.tooManyMembers(i)
		}
		var key span
		if i, key, err = d.memberKey(i); err == nil {
			if i, err = d.wrappedMember(i, key); err == nil {
				i, more, err = d.memberEnd(i)
			}
		}
	}
	return i, err
}

// wrappedMember reads a member of the wrapped object.
func (d *decoder) wrappedMember(i int, key span) (int, error) {
	var err error
	switch string(d.bytesOf(key)) {
	case FieldTimestamp:
		d.drop(key)
		i, d.ts, err = d.timestamp(i)
		d.hasTS = true
		return i, err
	case FieldObservedTimestamp:
		d.drop(key)
		i, d.observed, err = d.timestamp(i)
		d.hasObserved = true
		return i, err
	case FieldSeverity:
		d.drop(key)
		i, d.severity, err = d.str(i)
		d.hasSeverity = true
		return i, err
	case FieldSeverityNumber:
		d.drop(key)
		end, n, ok := d.smallInt(i)
		if !ok || n > 24 {
			return i, d.wrongType(i, end, "severity_number must be an integer 0..24")
		}
		d.severityNumber, d.hasSeverityNumber = plog.SeverityNumber(n), true
		return end, nil
	case FieldTraceID:
		d.drop(key)
		i, err = d.hexID(i, d.traceID[:])
		d.hasTraceID = err == nil
		return i, err
	case FieldSpanID:
		d.drop(key)
		i, err = d.hexID(i, d.spanID[:])
		d.hasSpanID = err == nil
		return i, err
	case FieldMessage:
		d.drop(key)
		return d.value(i, destBody, span{}, 1)
	case FieldAttributes:
		d.drop(key)
		var n int
		i, n, err = d.mapInto(i, destAttributes, span{}, 0)
		d.recordAttrs += n
		return i, err
	case FieldResource:
		d.drop(key)
		var n int
		i, n, err = d.mapInto(i, destResource, span{}, 0)
		d.resourceAttrs += n
		return i, err
	case FieldScope:
		d.drop(key)
		return d.scope(i)
	}
	// Any other field (a template written for syslog-ng, say) is kept
	// as a record attribute.
	d.recordAttrs++
	if d.attrsKeyBits.set(keyBitOf(d.bytesOf(key))) {
		d.attrsMayRepeat = true
	}
	return d.value(i, destRecordAttr, key, 1)
}

// scope reads the "scope" object: name and version; other members must be
// strings too, and are ignored.
func (d *decoder) scope(i int) (int, error) {
	i, more, err := d.objectOpen(i)
	for n := 1; more && err == nil; n++ {
		if n > d.lim.MaxMembers {
			return i, d.tooManyMembers(i)
		}
		var k, s span
		if i, k, err = d.memberKey(i); err == nil {
			i, s, err = d.str(i)
			switch string(d.bytesOf(k)) {
			case "name":
				d.scopeName, d.hasScopeName = s, true
			case "version":
				d.scopeVersion, d.hasScopeVer = s, true
			}
			if err == nil {
				i, more, err = d.memberEnd(i)
			}
		}
	}
	return i, err
}

func (d *decoder) timestamp(i int) (int, pcommon.Timestamp, error) {
	if i < len(d.b) && d.b[i] != '"' {
		// Unix nanoseconds as a number.
		end, n, ok := d.smallInt(i)
		if !ok {
			return i, 0, d.wrongType(i, end, "a timestamp is an RFC 3339 string or a non-negative integer of Unix nanoseconds")
		}
		return end, pcommon.Timestamp(n), nil
	}
	i, sp, err := d.str(i)
	if err != nil {
		return i, 0, err
	}
	s := d.bytesOf(sp)
	defer d.drop(sp)
	if ts, ok := parseUTCTimestamp(s); ok {
		return i, ts, nil
	}
	tm, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return i, 0, d.failRecord(i, fmt.Sprintf("timestamp %q is not RFC 3339", s))
	}
	return i, pcommon.NewTimestampFromTime(tm), nil
}

// smallInt reads a non-negative JSON integer that fits in an int64; it
// returns where the digits end.
func (d *decoder) smallInt(i int) (int, uint64, bool) {
	b, start := d.b, i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start || i-start > 18 || (b[start] == '0' && i-start > 1) {
		return i, 0, false
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return i, 0, false
	}
	var n uint64
	for _, c := range b[start:i] {
		n = n*10 + uint64(c-'0')
	}
	return i, n, true
}

func (d *decoder) hexID(i int, dst []byte) (int, error) {
	i, sp, err := d.str(i)
	if err != nil {
		return i, err
	}
	s := d.bytesOf(sp)
	defer d.drop(sp)
	if hex.DecodedLen(len(s)) != len(dst) {
		return i, d.failRecord(i, fmt.Sprintf("an id of %d bytes needs %d hex digits", len(dst), 2*len(dst)))
	}
	if _, err := hex.Decode(dst, s); err != nil {
		return i, d.failRecord(i, "id is not hex")
	}
	return i, nil
}

// push appends a node and returns its index (not a pointer: later appends
// may move the slice). It writes the fields in place rather than copying a
// node built on the stack.
func (d *decoder) push(kind nodeKind, dest nodeDest, key, val span, n int64) int {
	at := len(d.nodes)
	if at == cap(d.nodes) {
		// Double: append's growth for large slices (a quarter) would copy
		// a line of many values several times over.
		// Never past the limit: the line is refused there.
		d.nodes = slices.Grow(d.nodes, max(min(at, d.lim.MaxValues-at), 64))
	}
	d.nodes = d.nodes[:at+1]
	p := &d.nodes[at]
	p.kind, p.dest, p.alt, p.key, p.val, p.n = kind, dest, 0, key, val, n
	return at
}

// mapInto parses an object into a map node and returns its member count.
func (d *decoder) mapInto(i int, dest nodeDest, key span, depth int) (int, int, error) {
	if err := d.checkContainer(i, depth); err != nil {
		return i, 0, err
	}
	at := d.push(kindMap, dest, key, span{}, 0)
	// The filter of the map's keys: the record's attributes and resource
	// are filled from several objects, a nested map from itself.
	var own keyBits
	bits, mayRepeat := &own, false
	switch dest {
	case destAttributes:
		bits = &d.attrsKeyBits
	case destResource:
		bits = &d.resKeyBits
	}
	n := 0
	i, more, err := d.objectOpen(i)
	for more && err == nil {
		var k span
		if i, k, err = d.memberKey(i); err == nil {
			if n++; n > d.lim.MaxMembers {
				return i, n, d.tooManyMembers(i)
			}
			if bits.set(keyBitOf(d.bytesOf(k))) {
				mayRepeat = true
			}
			if i, err = d.value(i, destMember, k, depth+1); err == nil {
				i, more, err = d.memberEnd(i)
			}
		}
	}
	switch dest {
	case destAttributes:
		d.attrsMayRepeat = d.attrsMayRepeat || mayRepeat
	case destResource:
		d.resMayRepeat = d.resMayRepeat || mayRepeat
	default:
		if mayRepeat {
			d.nodes[at].val.s = 1 // markRepeats must look
		}
	}
	d.nodes[at].n = int64(n)
	d.nodes[at].val.e = len(d.nodes)
	return i, n, err
}

// value parses any JSON value at i (whitespace before it skipped) into a
// node and its members.
func (d *decoder) value(i int, dest nodeDest, key span, depth int) (int, error) {
	if len(d.nodes) >= d.lim.MaxValues {
		return i, d.tooManyValues(i)
	}
	if i >= len(d.b) {
		return i, d.fail(i, "unexpected end of line, expected a value")
	}
	switch c := d.b[i]; {
	case c == '"':
		i, s, err := d.str(i)
		d.push(kindStr, dest, key, s, 0)
		return i, err
	case c == '{':
		i, _, err := d.mapInto(i, dest, key, depth)
		return i, err
	case c == '[':
		return d.array(i, dest, key, depth)
	case c == 't':
		d.push(kindBool, dest, key, span{}, 1)
		return d.literal(i, "true")
	case c == 'f':
		d.push(kindBool, dest, key, span{}, 0)
		return d.literal(i, "false")
	case c == 'n':
		d.push(kindNull, dest, key, span{}, 0)
		return d.literal(i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number(i, dest, key)
	default:
		return i, d.fail(i, fmt.Sprintf("found %q, expected a value", c))
	}
}

// array parses the array at i into a slice node and its elements.
func (d *decoder) array(i int, dest nodeDest, key span, depth int) (int, error) {
	if err := d.checkContainer(i, depth); err != nil {
		return i, err
	}
	at := d.push(kindSlice, dest, key, span{}, 0)
	i = skipWS(d.b, i+1)
	if i < len(d.b) && d.b[i] == ']' {
		d.nodes[at].val.e = len(d.nodes)
		return i + 1, nil
	}
	for {
		d.nodes[at].n++
		var err error
		if i, err = d.value(skipWS(d.b, i), destMember, span{}, depth+1); err != nil {
			return i, err
		}
		i = skipWS(d.b, i)
		if i >= len(d.b) {
			return i, d.fail(i, "unexpected end of line inside an array")
		}
		switch d.b[i] {
		case ',':
			i++
		case ']':
			d.nodes[at].val.e = len(d.nodes)
			return i + 1, nil
		default:
			return i, d.fail(i, fmt.Sprintf("found %q, expected ',' or ']'", d.b[i]))
		}
	}
}

func (d *decoder) literal(i int, word string) (int, error) {
	if len(d.b)-i < len(word) || string(d.b[i:i+len(word)]) != word {
		return i, d.fail(i, "invalid literal, expected "+word)
	}
	return i + len(word), nil
}

// checkContainer is the check before a map or array at i, depth levels of
// maps and arrays deep (counting itself), becomes a node: within MaxDepth,
// MaxValues and the line's budget of maps and arrays (containerBudget).
func (d *decoder) checkContainer(i, depth int) error {
	if depth > d.lim.MaxDepth {
		return d.failLimit(i, ErrTooDeep, fmt.Sprintf("maps and arrays nest deeper than %d levels", d.lim.MaxDepth))
	}
	if len(d.nodes) >= d.lim.MaxValues {
		return d.tooManyValues(i)
	}
	if d.containers++; d.containers > d.containerBudget {
		return d.tooDense(i)
	}
	return nil
}

func (d *decoder) tooManyValues(i int) error {
	return d.failLimit(i, ErrTooManyValues, fmt.Sprintf("more than %d values in the line", d.lim.MaxValues))
}

func (d *decoder) tooDense(i int) error {
	return d.failLimit(i, ErrTooManyValues, fmt.Sprintf("more maps and arrays than a line of %d bytes may hold (%d: %d, and one per %d bytes)",
		len(d.b), d.containerBudget, freeContainers, bytesPerContainer))
}

func (d *decoder) tooManyMembers(i int) error {
	return d.failLimit(i, ErrTooManyMembers, fmt.Sprintf("more than %d members in an object", d.lim.MaxMembers))
}

// wrongType is the error for a field of the spec whose value at i is not
// what the spec says (the message, at end): a valid JSON value of the wrong
// type, or not JSON at all.
func (d *decoder) wrongType(i, end int, msg string) error {
	if i < len(d.b) && (startsValue(d.b[i]) || d.b[i] == '"') {
		return d.failRecord(end, msg)
	}
	return d.fail(end, msg)
}
