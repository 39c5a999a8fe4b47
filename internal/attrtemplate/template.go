// Package attrtemplate renders small templates over log record attributes,
// such as "/var/log/logx/{logx.service}.log" or "logs-{cfjs1.format}", for
// file paths (logfile exporter) and Kafka topics and keys (kafkatopics
// exporter).
//
// Syntax:
//
//	{name}              the record attribute "name", else the resource attribute "name"
//	{a|b}               the first of a, b that is present (record, then resource, for each)
//	{name:-fallback}    "fallback" when none of the names is present
//	{{  }}              a literal "{" or "}"
//
// An attribute that is absent, or whose value renders empty, is "missing".
// A missing placeholder renders its own fallback, else Options.Missing.
//
// A template is parsed once, at config time (Parse reports bad templates
// with their position), and rendered per record by appending into a
// caller's buffer; rendering string, int, double and bool values does not
// allocate.
//
// Values come from senders and are not trusted: Options.Escape makes sure a
// value cannot change the shape of the result (EscapePath: no "/" or ".."
// path elements injected; EscapeTopic: only Kafka's topic characters).
package attrtemplate // import "github.com/otelcol-logx/otelcol-logx/internal/attrtemplate"

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Escape says how attribute values are made safe for where the rendered
// text is used. Literal parts of the template are never changed.
type Escape uint8

const (
	// EscapeNone copies values as they are.
	EscapeNone Escape = iota
	// EscapePath makes every value one harmless file name fragment: "/" and
	// NUL become "_", a value made only of dots ("." or "..") becomes
	// underscores, control bytes become "_", and a value is cut to
	// MaxPathValueLen bytes (a file name is at most 255 bytes on Linux).
	EscapePath
	// EscapeTopic keeps only the characters Kafka allows in a topic name
	// (ASCII letters, digits, '.', '_', '-'); any other byte becomes '_'.
	EscapeTopic
)

// MaxPathValueLen bounds one value rendered with EscapePath.
const MaxPathValueLen = 200

// DefaultMissing is what a missing placeholder without a fallback renders
// when Options.Missing is empty.
const DefaultMissing = "unknown"

// Options are fixed at parse time.
type Options struct {
	// Missing renders for a missing placeholder that has no ":-fallback".
	// Empty means DefaultMissing. It is checked against Escape like a
	// fallback.
	Missing string
	// Escape applies to every attribute value.
	Escape Escape
}

// Template is a parsed template. It is immutable and safe for concurrent use.
type Template struct {
	src    string
	parts  []part
	static bool
	escape Escape
}

// part is literal text followed by an optional placeholder.
type part struct {
	lit      string
	keys     []string // empty: no placeholder
	fallback string   // already valid under the template's Escape
}

// Parse parses src. The error names the byte offset and what to write
// instead.
func Parse(src string, opts Options) (*Template, error) {
	missing := opts.Missing
	if missing == "" {
		missing = DefaultMissing
	}
	if err := checkFixed(missing, opts.Escape); err != nil {
		return nil, fmt.Errorf("missing value %q: %w", missing, err)
	}
	t := &Template{src: src, static: true, escape: opts.Escape}
	var lit strings.Builder
	for i := 0; i < len(src); {
		c := src[i]
		switch c {
		case '}':
			if i+1 < len(src) && src[i+1] == '}' {
				lit.WriteByte('}')
				i += 2
				continue
			}
			return nil, fmt.Errorf("template %q: unmatched '}' at offset %d; write '}}' for a literal '}'", src, i)
		case '{':
			if i+1 < len(src) && src[i+1] == '{' {
				lit.WriteByte('{')
				i += 2
				continue
			}
			end := strings.IndexByte(src[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("template %q: '{' at offset %d is not closed; write {attribute} or '{{' for a literal '{'", src, i)
			}
			body := src[i+1 : i+1+end]
			if j := strings.IndexByte(body, '{'); j >= 0 {
				return nil, fmt.Errorf("template %q: '{' inside a placeholder at offset %d; placeholders do not nest", src, i+1+j)
			}
			p, err := parsePlaceholder(body, missing, opts.Escape)
			if err != nil {
				return nil, fmt.Errorf("template %q: placeholder at offset %d: %w", src, i, err)
			}
			p.lit = lit.String()
			lit.Reset()
			t.parts = append(t.parts, p)
			t.static = false
			i += end + 2
		default:
			lit.WriteByte(c)
			i++
		}
	}
	if lit.Len() > 0 || len(t.parts) == 0 {
		t.parts = append(t.parts, part{lit: lit.String()})
	}
	return t, nil
}

// MustParse is Parse for templates known to be valid (tests, constants).
func MustParse(src string, opts Options) *Template {
	t, err := Parse(src, opts)
	if err != nil {
		panic(err)
	}
	return t
}

func parsePlaceholder(body, missing string, esc Escape) (part, error) {
	names := body
	fallback := missing
	if j := strings.Index(body, ":-"); j >= 0 {
		names, fallback = body[:j], body[j+2:]
		if err := checkFixed(fallback, esc); err != nil {
			return part{}, fmt.Errorf("fallback %q: %w", fallback, err)
		}
	}
	if names == "" {
		return part{}, errors.New("empty placeholder; write {attribute.name}")
	}
	var keys []string
	for k := range strings.SplitSeq(names, "|") {
		if k == "" {
			return part{}, fmt.Errorf("empty attribute name in %q; write {a|b} with both names", names)
		}
		if strings.TrimSpace(k) != k {
			return part{}, fmt.Errorf("attribute name %q has surrounding spaces; remove them", k)
		}
		keys = append(keys, k)
	}
	return part{keys: keys, fallback: fallback}, nil
}

// checkFixed refuses a configured fallback that escaping would have to
// change: the operator should see that at config time, not in a file name.
func checkFixed(s string, esc Escape) error {
	var buf [MaxPathValueLen + 8]byte
	if len(s) > MaxPathValueLen && esc == EscapePath {
		return fmt.Errorf("longer than %d bytes", MaxPathValueLen)
	}
	out := appendEscaped(buf[:0], s, esc)
	if string(out) != s {
		return fmt.Errorf("not allowed here (it would render as %q); use only safe characters", out)
	}
	return nil
}

// String returns the source text.
func (t *Template) String() string { return t.src }

// Static reports whether the template has no placeholder, so that callers
// can render it once.
func (t *Template) Static() bool { return t.static }

// Keys returns every attribute name the template reads, in order.
func (t *Template) Keys() []string {
	var ks []string
	for _, p := range t.parts {
		ks = append(ks, p.keys...)
	}
	return ks
}

// Append renders the template for one record into dst and returns the
// extended buffer, and how many placeholders were missing (rendered from a
// fallback). attrs are the record's attributes, resource its resource's;
// either may be the zero Map.
func (t *Template) Append(dst []byte, attrs, resource pcommon.Map) ([]byte, int) {
	esc := t.escape
	missing := 0
	for i := range t.parts {
		p := &t.parts[i]
		dst = append(dst, p.lit...)
		if len(p.keys) == 0 {
			continue
		}
		n := len(dst)
		for _, k := range p.keys {
			dst = appendLookup(dst, attrs, resource, k, esc)
			if len(dst) > n {
				break
			}
		}
		if len(dst) == n {
			missing++
			dst = append(dst, p.fallback...)
		}
	}
	return dst, missing
}

// appendLookup appends the value of key (record first, then resource);
// nothing when absent.
func appendLookup(dst []byte, attrs, resource pcommon.Map, key string, esc Escape) []byte {
	v, ok := lookup(attrs, key)
	if !ok {
		v, ok = lookup(resource, key)
		if !ok {
			return dst
		}
	}
	return appendValue(dst, v, esc)
}

func lookup(m pcommon.Map, key string) (pcommon.Value, bool) {
	if m == (pcommon.Map{}) {
		return pcommon.Value{}, false
	}
	return m.Get(key)
}

// appendValue renders a value without allocating for the scalar types.
func appendValue(dst []byte, v pcommon.Value, esc Escape) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return appendEscaped(dst, v.Str(), esc)
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, v.Int(), 10)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(dst, v.Bool())
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return appendEscaped(dst, strconv.FormatFloat(f, 'g', -1, 64), esc)
		}
		// 'g' may write "1e+06": '+' is not a topic character.
		n := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		if esc == EscapePath && len(dst)-n > MaxPathValueLen {
			dst = dst[:n+MaxPathValueLen]
		}
		return dst
	case pcommon.ValueTypeEmpty:
		return dst
	default:
		// Maps, slices and bytes are not meant for templates; render them
		// (this allocates) so that the result is still deterministic.
		return appendEscaped(dst, v.AsString(), esc)
	}
}

// appendEscaped appends s made safe under esc.
func appendEscaped(dst []byte, s string, esc Escape) []byte {
	switch esc {
	case EscapePath:
		if len(s) > MaxPathValueLen {
			s = s[:MaxPathValueLen]
		}
		if onlyDots(s) {
			for range len(s) {
				dst = append(dst, '_')
			}
			return dst
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '/' || c < 0x20 || c == 0x7f {
				c = '_'
			}
			dst = append(dst, c)
		}
		return dst
	case EscapeTopic:
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !topicByte(c) {
				c = '_'
			}
			dst = append(dst, c)
		}
		return dst
	default:
		return append(dst, s...)
	}
}

func onlyDots(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' {
			return false
		}
	}
	return true
}

func topicByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}
