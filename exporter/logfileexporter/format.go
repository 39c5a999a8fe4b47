package logfileexporter

import (
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// lineFormatter appends one record as one line, '\n' included.
type lineFormatter interface {
	appendLine(dst []byte, res pcommon.Resource, scope pcommon.InstrumentationScope, rec plog.LogRecord) []byte
}

func newFormatter(c *Config) (lineFormatter, error) {
	switch c.Format {
	case formatText:
		return &textFormatter{multiline: c.Multiline}, nil
	case formatSyslog:
		return &syslogFormatter{opts: c.syslogOptions(), multiline: c.Multiline}, nil
	case formatJSON:
		return jsonFormatter{}, nil
	case formatCFJS1:
		return &cfjs1Formatter{attr: c.CFJS1.FormatAttribute, def: c.CFJS1.DefaultFormat, wrappers: cfjs1.Wrappers(c.CFJS1.Wrappers)}, nil
	}
	return nil, fmt.Errorf("unknown format %q", c.Format)
}

// textFormatter writes the body only.
type textFormatter struct{ multiline string }

func (f *textFormatter) appendLine(dst []byte, _ pcommon.Resource, _ pcommon.InstrumentationScope, rec plog.LogRecord) []byte {
	dst = appendBodyText(dst, rec.Body(), f.multiline)
	return append(dst, '\n')
}

// syslogFormatter writes RFC 5424 (internal/syslog), the body as MSG.
type syslogFormatter struct {
	opts      *syslog.RFC5424Options
	multiline string
}

func (f *syslogFormatter) appendLine(dst []byte, res pcommon.Resource, _ pcommon.InstrumentationScope, rec plog.LogRecord) []byte {
	dst = syslog.AppendRFC5424Header(dst, res.Attributes(), rec, f.opts)
	dst = appendBodyText(dst, rec.Body(), f.multiline)
	return append(dst, '\n')
}

// cfjs1Formatter writes cfjs1 lines (internal/cfjs1), the format taken
// from an attribute.
type cfjs1Formatter struct {
	attr, def string
	wrappers  cfjs1.Wrappers
}

func (f *cfjs1Formatter) appendLine(dst []byte, res pcommon.Resource, scope pcommon.InstrumentationScope, rec plog.LogRecord) []byte {
	format := f.def
	attrs := rec.Attributes()
	if f.attr != "" {
		if v, ok := attrs.Get(f.attr); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
			format = v.Str()
		}
	}
	deadLetterFor := ""
	if v, ok := attrs.Get(logattr.CFJS1DeadLetterFor); ok && v.Type() == pcommon.ValueTypeStr {
		deadLetterFor = v.Str()
	}
	return cfjs1.AppendLine(dst, format, f.wrappers.Name(format), res, scope, rec, deadLetterFor)
}

// appendBodyText writes the body as text, with line breaks treated as
// multiline says, so that one record stays one line unless "keep".
func appendBodyText(dst []byte, body pcommon.Value, multiline string) []byte {
	var s string
	switch body.Type() {
	case pcommon.ValueTypeStr:
		s = body.Str()
	case pcommon.ValueTypeEmpty:
		return dst
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, body.Int(), 10)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(dst, body.Bool())
	case pcommon.ValueTypeDouble:
		return strconv.AppendFloat(dst, body.Double(), 'g', -1, 64)
	default:
		s = body.AsString() // JSON of maps and slices: allocates, rare
	}
	// Most bodies have no line break or backslash: three vectorised scans
	// find that faster than one byte loop.
	if multiline == multilineKeep || strings.IndexByte(s, '\n') < 0 && strings.IndexByte(s, '\r') < 0 &&
		(multiline == multilineSpace || strings.IndexByte(s, '\\') < 0) {
		return append(dst, s...)
	}
	switch multiline {
	case multilineSpace:
		last := 0
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '\n' || c == '\r' {
				dst = append(dst, s[last:i]...)
				dst = append(dst, ' ')
				last = i + 1
			}
		}
		return append(dst, s[last:]...)
	default: // escape: reversible, "\\" for a backslash
		last := 0
		for i := 0; i < len(s); i++ {
			var esc byte
			switch s[i] {
			case '\n':
				esc = 'n'
			case '\r':
				esc = 'r'
			case '\\':
				esc = '\\'
			default:
				continue
			}
			dst = append(dst, s[last:i]...)
			dst = append(dst, '\\', esc)
			last = i + 1
		}
		return append(dst, s[last:]...)
	}
}
