package cfjs1

import (
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/xpdata"

	"github.com/otelcol-logx/otelcol-logx/internal/sharedvalue"
)

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

// Decode parses one cfjs1 line (a trailing "\n" or "\r\n" is allowed) into
// t. The record gets the attributes cfjs1.format and, for a dead-letter copy,
// cfjs1.dead_letter_for. wrappers, if not nil, is checked: a wrapper field
// other than the one configured for the line's format is an error. On error
// t is left as it was: the whole line is checked before t is written.
//
// Decoding runs in two passes (see decoder). The first parses and checks
// the line into a reused scratch list; it works on a copy of the line, to
// which it appends the unescaped text of the strings that had escapes.
// The second makes that copy one string and writes pdata, every key and
// string a substring of it, with maps sized exactly and, when they start
// empty, built without pdata's search for each key (mapTarget). So a line
// costs one allocation for all its text, plus pdata's own; the decoded
// record keeps that string (about the line's size) alive.
//
// The line must be within DefaultLimits (a Decoder sets others). Every
// error wraps one of the causes in errors.go (see DropReason).
func Decode(line []byte, wrappers Wrappers, t Target) (Meta, error) {
	d := decoderPool.Get().(*decoder)
	d.lim = DefaultLimits()
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
	if fs := d.fillState; fs != nil {
		// They hold the line's text. (Cleared only when set: a write of
		// pointers costs a write barrier while the GC runs.)
		if fs.meta != (Meta{}) {
			fs.meta = Meta{}
		}
		if d.lastUsed {
			fs.last = sharedvalue.Slot{}
		}
		if cap(fs.attrsKeys.order) > maxPooledNodes || cap(fs.resKeys.order) > maxPooledNodes ||
			cap(fs.nestedKeys.order) > maxPooledNodes || len(fs.builders) > DefaultMaxDepth {
			return
		}
	}
	if cap(d.text) > maxPooledText || cap(d.nodes) > maxPooledNodes || cap(d.tmp) > maxPooledText {
		return
	}
	decoderPool.Put(d)
}

// span is the text of a key or string value: d.text[s:e] in the first
// pass, d.all[s:e] in the second. d.text starts as a copy of the line, so
// a string without escapes is a span of that copy, at its place in the
// line; only an unescaped or repaired string is appended after it.
type span struct{ s, e int }

// A node is one parsed JSON value. A map or slice node is followed by its
// members (n of them), each followed by its own members if it has any.
type node struct {
	kind nodeKind
	dest nodeDest
	alt  int32 // for a member of a map: where its value comes from (see findRepeats)
	key  span  // the member's name, in a map
	val  span  // a string's text; for a map or slice, val.e is the index after its last node
	n    int64 // an int, a bool (0 or 1), a double's bits, or the count of members
}

// next returns the index of the node after node i and its members.
func (d *decoder) next(i int) int {
	if k := d.nodes[i].kind; k == kindMap || k == kindSlice {
		return d.nodes[i].val.e
	}
	return i + 1
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
	lim Limits // set before each line
	b   []byte // the line, read only
	tmp []byte // scratch for repairing invalid UTF-8

	text  []byte // a copy of the line, then the unescaped text of strings that had escapes
	base  int    // len(line): spans from here on were appended
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
	containers                 int // maps and arrays in the record's values so far
	containerBudget            int // containerBudget of the line

	// The filters of the keys bound for the record's attributes (with
	// cfjs1.format and cfjs1.dead_letter_for in from the start: the line's
	// fields set them) and the resource's, and whether a key may come
	// twice in either: if not, the second pass need not look (findRepeats).
	attrsKeyBits, resKeyBits     keyBits
	attrsMayRepeat, resMayRepeat bool
	attrsBuilder, resBuilder     xpdata.MapBuilder

	// The second pass's state, kept apart so that reset (each line) does
	// not copy it; made on first use.
	*fillState

	// recent lets consecutive lines share the values of their attributes
	// (see fill); kept from line to line, made on first use, and used for
	// lines of up to maxRecentText bytes of text (useRecent).
	recent    *recentValues
	useRecent bool
	lastUsed  bool // fillState.last was used for this line
}

func (d *decoder) reset(line []byte) {
	lim := d.lim
	if lim.MaxValues == 0 {
		lim = DefaultLimits()
	}
	*d = decoder{lim: lim, containerBudget: containerBudget(len(line)), b: line, tmp: d.tmp[:0], text: append(d.text[:0], line...), base: len(line), nodes: d.nodes[:0], recent: d.recent, fillState: d.fillState,
		attrsKeyBits: metaKeyBits}
}

func (d *decoder) sub(s span) string { return d.all[s.s:s.e] }

func (d *decoder) decode(line []byte, wrappers Wrappers, t Target) (Meta, error) {
	d.reset(line)
	err := d.parse()
	// The one allocation for the line's text.
	d.all = string(d.text)
	m := Meta{Format: d.sub(d.format), Wrapper: d.sub(d.wrapper), DeadLetterFor: d.sub(d.deadLetterFor)}
	if err != nil {
		return m, err
	}
	if m.Format == "" {
		return m, notARecord(`the line has no "format" field (or it is empty)`)
	}
	if m.Wrapper == "" {
		return m, notARecord("the line has no wrapper object (format %q)", m.Format)
	}
	if wrappers != nil {
		if want := wrappers.Name(m.Format); want != m.Wrapper {
			return m, notARecord("format %q is wrapped in %q, expected %q", m.Format, m.Wrapper, want)
		}
	}
	d.fill(t, m)
	return m, nil
}
