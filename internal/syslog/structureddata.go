package syslog

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/xpdata"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// Defaults of Parser.MaxSDElements and Parser.MaxSDParams. Real messages
// carry a handful of elements (timeQuality, origin, meta, one of the
// sender's own) with a few parameters each; the bounds leave room for rich
// senders while keeping what one line can add to a record, and to every
// component that walks its attributes after, small.
const (
	DefaultMaxSDElements = 16
	DefaultMaxSDParams   = 64
)

// sdSmall is how many parameters are put into the record one by one (each
// put looks at every attribute before it); past that they are deduplicated
// by a hash set and the attributes built by appending, in linear time.
const sdSmall = 16

// sdParam is one SD-PARAM of a message.
type sdParam struct {
	id, name string
	key      string // made when the param is put
	value    string // as in the line: escapes not undone yet
	escaped  bool
	repeat   bool // a later repeat of a key: its value went to the first
}

// sdScratch is what a Parser reuses from message to message.
type sdScratch struct {
	params []sdParam
	index  map[string]int // key -> its first param, for messages past sdSmall
	sized  int            // the most keys index has been made or grown for
	key    []byte         // a key being looked up in index
}

func (p *Parser) maxSDElements() int {
	if p.MaxSDElements > 0 {
		return p.MaxSDElements
	}
	return DefaultMaxSDElements
}

func (p *Parser) maxSDParams() int {
	if p.MaxSDParams > 0 {
		return p.MaxSDParams
	}
	return DefaultMaxSDParams
}

// parseSD reads STRUCTURED-DATA at the start of s into attrs and returns
// the MSG after it. Elements past MaxSDElements and parameters past
// MaxSDParams are read for their syntax only (so the MSG is found where it
// is) and become no attributes; the record is then marked with
// syslog.structured_data.truncated. Parameters read before a syntax error
// are kept, as the header fields are.
func (p *Parser) parseSD(s string, attrs pcommon.Map) (string, error) {
	if strings.HasPrefix(s, "-") {
		return skipOneSpace(s[1:]), nil
	}
	if !strings.HasPrefix(s, "[") {
		return "", errBadSD
	}
	params := p.sd.params[:0]
	maxElements, maxParams := p.maxSDElements(), p.maxSDParams()
	elements, truncated := 0, false
	var err error
	for err == nil && strings.HasPrefix(s, "[") {
		s = s[1:]
		end := strings.IndexAny(s, " ]")
		if end <= 0 {
			err = errBadSD
			break
		}
		id := s[:end]
		s = s[end:]
		elements++
		keep := elements <= maxElements
		for strings.HasPrefix(s, " ") {
			s = s[1:]
			eq := strings.IndexByte(s, '=')
			if eq <= 0 || eq+1 >= len(s) || s[eq+1] != '"' {
				err = errBadSD
				break
			}
			name := s[:eq]
			value, escaped, tail, ok := sdValue(s[eq+2:])
			if !ok {
				err = errBadSD
				break
			}
			s = tail
			if !keep || len(params) == maxParams {
				truncated = true
				continue
			}
			params = append(params, sdParam{id: id, name: name, value: value, escaped: escaped})
		}
		if err == nil {
			if !strings.HasPrefix(s, "]") {
				err = errBadSD
				break
			}
			s = s[1:]
		}
	}
	p.putSDParams(attrs, params)
	clear(params) // hold no text of this line until the next
	p.sd.params = params[:0]
	if truncated {
		attrs.PutBool(logattr.SyslogSDTruncated, true)
	}
	if err != nil {
		return "", err
	}
	return skipOneSpace(s), nil
}

// putSDParams writes params into attrs as string attributes. A key given
// more than once keeps the place of its first and takes the value of its
// last (which is what putting them one by one gives), whatever the number.
func (p *Parser) putSDParams(attrs pcommon.Map, params []sdParam) {
	if len(params) <= sdSmall {
		for _, sp := range params {
			attrs.PutStr(logattr.SyslogSDPrefix+sp.id+"."+sp.name, sp.text())
		}
		return
	}
	index := p.sdIndex(len(params))
	for i := range params {
		sp := &params[i]
		// The key is looked up from a reused buffer and made a string only
		// when new: a message repeating a few names makes few keys.
		p.sd.key = append(append(append(append(p.sd.key[:0], logattr.SyslogSDPrefix...), sp.id...), '.'), sp.name...)
		if first, ok := index[string(p.sd.key)]; ok {
			params[first].value, params[first].escaped = sp.value, sp.escaped
			sp.repeat = true
			continue
		}
		sp.key = string(p.sd.key)
		index[sp.key] = i
	}
	var mb xpdata.MapBuilder
	mb.EnsureCapacity(attrs.Len() + len(params))
	for k, v := range attrs.All() {
		// A key the record has already (none of the parser's own does,
		// but a caller's record may) is replaced in place.
		if i, ok := index[k]; ok && !params[i].repeat {
			v.SetStr(params[i].text())
			params[i].repeat = true
		}
		v.MoveTo(mb.AppendEmpty(k))
	}
	for _, sp := range params {
		if !sp.repeat {
			mb.AppendEmpty(sp.key).SetStr(sp.text())
		}
	}
	mb.UnsafeIntoMap(attrs)
}

// sdIndex returns the parser's empty key set, for n keys. A set sized for
// many more keys than the default limit is made anew rather than cleared
// (clearing costs its size, not its number of keys), so one large message
// does not make every later one pay for it.
func (p *Parser) sdIndex(n int) map[string]int {
	if p.sd.index == nil || p.sd.sized > 4*DefaultMaxSDParams {
		p.sd.index, p.sd.sized = make(map[string]int, n), n
		return p.sd.index
	}
	clear(p.sd.index)
	p.sd.sized = max(p.sd.sized, n)
	return p.sd.index
}

// text returns the parameter's value with its escapes undone.
func (sp *sdParam) text() string {
	if sp.escaped {
		return unescapeSD(sp.value)
	}
	return sp.value
}

// sdValue reads a PARAM-VALUE up to its closing quote and returns it as
// written (escaped says whether it holds a backslash to undo) and what
// follows the quote.
func sdValue(s string) (value string, escaped bool, tail string, ok bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return s[:i], escaped, s[i+1:], true
		}
	}
	return "", false, "", false
}

// unescapeSD undoes the \" \\ and \] escapes of a PARAM-VALUE.
func unescapeSD(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == ']') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
