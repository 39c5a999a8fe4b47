package syslog

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/sharedvalue"
)

// byteOrderMark may start an RFC 5424 MSG to say it is UTF-8.
const byteOrderMark = "\xef\xbb\xbf"

// parse5424 reads "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD[ MSG]"
// ("-" for a nil field). Structured data becomes "syslog.sd.<id>.<param>"
// string attributes.
func (p *Parser) parse5424(line string, lr plog.LogRecord) error {
	pri, n, ok := parsePRI(line)
	if !ok {
		lr.Body().SetStr(line)
		return errNoPRI
	}
	if !strings.HasPrefix(line[n:], "1 ") {
		lr.Body().SetStr(line)
		return errBadVersion
	}
	attrs := lr.Attributes()
	attrs.EnsureCapacity(6)
	setPRI(pri, lr)
	numbers()[1].CopyTo(attrs.PutEmpty(logattr.SyslogVersion))
	rest := line[n+2:]

	var fields [5]string // timestamp, hostname, app-name, procid, msgid
	for i := range fields {
		sp := strings.IndexByte(rest, ' ')
		if sp <= 0 {
			lr.Body().SetStr(line)
			return errBadHeader
		}
		fields[i], rest = rest[:sp], rest[sp+1:]
	}
	if fields[0] != "-" {
		t, err := time.Parse(time.RFC3339Nano, fields[0])
		if err != nil {
			lr.Body().SetStr(line)
			return errBadTimestamp
		}
		lr.SetTimestamp(pcommon.NewTimestampFromTime(t))
	}
	header := [...]struct {
		key    string
		recent *sharedvalue.Slot
	}{
		{logattr.SyslogHostname, &p.recent.host},
		{logattr.SyslogAppName, &p.recent.app},
		{logattr.SyslogProcID, &p.recent.procID},
		{logattr.SyslogMsgID, &p.recent.msgID},
	}
	for i, h := range header {
		if f := fields[i+1]; f != "-" {
			h.recent.SetStr(attrs.PutEmpty(h.key), f)
		}
	}

	msg, err := parseSD(rest, attrs)
	if err != nil {
		lr.Body().SetStr(line)
		return err
	}
	lr.Body().SetStr(strings.TrimPrefix(msg, byteOrderMark))
	return nil
}

// parseSD reads STRUCTURED-DATA at the start of s into attrs and returns
// the MSG after it.
func parseSD(s string, attrs pcommon.Map) (string, error) {
	if strings.HasPrefix(s, "-") {
		return skipOneSpace(s[1:]), nil
	}
	if !strings.HasPrefix(s, "[") {
		return "", errBadSD
	}
	for strings.HasPrefix(s, "[") {
		s = s[1:]
		end := strings.IndexAny(s, " ]")
		if end <= 0 {
			return "", errBadSD
		}
		id := s[:end]
		s = s[end:]
		for strings.HasPrefix(s, " ") {
			s = s[1:]
			eq := strings.IndexByte(s, '=')
			if eq <= 0 || eq+1 >= len(s) || s[eq+1] != '"' {
				return "", errBadSD
			}
			name := s[:eq]
			value, tail, ok := sdValue(s[eq+2:])
			if !ok {
				return "", errBadSD
			}
			attrs.PutStr(logattr.SyslogSDPrefix+id+"."+name, value)
			s = tail
		}
		if !strings.HasPrefix(s, "]") {
			return "", errBadSD
		}
		s = s[1:]
	}
	return skipOneSpace(s), nil
}

// sdValue reads a PARAM-VALUE up to its closing quote, undoing the \" \\
// and \] escapes, and returns what follows the quote.
func sdValue(s string) (value, tail string, ok bool) {
	escaped := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if !escaped {
				return s[:i], s[i+1:], true
			}
			return unescapeSD(s[:i]), s[i+1:], true
		}
	}
	return "", "", false
}

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
