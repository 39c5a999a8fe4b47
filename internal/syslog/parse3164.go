package syslog

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// maxTagLen bounds the TAG (app name) of an RFC 3164 line; RFC 3164 says
// 32, common writers exceed it a little.
const maxTagLen = 64

// parse3164 reads "<PRI>TIMESTAMP [HOSTNAME ]TAG[PID]: MSG". TIMESTAMP is
// "Mmm dd hh:mm:ss" or RFC 3339; a line without one is accepted (no
// timestamp set). HOSTNAME is only taken as such when a TAG follows it,
// which is how the local form "<13>Nov 22 04:00:00 app[1]: msg" is told
// from "<13>Nov 22 04:00:00 host app[1]: msg".
func (p *Parser) parse3164(line string, lr plog.LogRecord) error {
	pri, n, ok := parsePRI(line)
	if !ok {
		lr.Body().SetStr(line)
		return errNoPRI
	}
	attrs := lr.Attributes()
	attrs.EnsureCapacity(4)
	setPRI(pri, lr)
	rest := line[n:]
	if ts, m, ok := p.stamp3164(rest); ok {
		lr.SetTimestamp(ts)
		rest = rest[m:]
		if len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
	}
	host, tag, pid, msg := splitHostTag(rest)
	if host != "" {
		p.recent.host.SetStr(attrs.PutEmpty(logattr.SyslogHostname), host)
	}
	if tag != "" {
		p.recent.app.SetStr(attrs.PutEmpty(logattr.SyslogAppName), tag)
	}
	if pid != "" {
		p.recent.procID.SetStr(attrs.PutEmpty(logattr.SyslogProcID), pid)
	}
	lr.Body().SetStr(msg)
	return nil
}

// splitHostTag splits what follows the timestamp.
func splitHostTag(s string) (host, tag, pid, msg string) {
	if tag, pid, msg, ok := splitTag(s); ok {
		return "", tag, pid, msg
	}
	if sp := strings.IndexByte(s, ' '); sp > 0 {
		if tag, pid, msg, ok := splitTag(s[sp+1:]); ok {
			return s[:sp], tag, pid, msg
		}
	}
	return "", "", "", s
}

// splitTag reads "TAG[PID]: MSG", "TAG: MSG" or "TAG[PID] MSG" at the start
// of s; ok is false when s does not start with a tag.
func splitTag(s string) (tag, pid, msg string, ok bool) {
	for i := 0; i < len(s) && i <= maxTagLen; i++ {
		switch s[i] {
		case ':':
			if i == 0 {
				return "", "", "", false
			}
			return s[:i], "", skipOneSpace(s[i+1:]), true
		case '[':
			if i == 0 {
				return "", "", "", false
			}
			end := strings.IndexByte(s[i+1:], ']')
			if end < 0 || end > 20 {
				return "", "", "", false
			}
			tag, pid, msg = s[:i], s[i+1:i+1+end], s[i+2+end:]
			if len(msg) > 0 && msg[0] == ':' {
				msg = msg[1:]
			}
			return tag, pid, skipOneSpace(msg), true
		case ' ', '\t':
			return "", "", "", false
		}
	}
	return "", "", "", false
}

func skipOneSpace(s string) string {
	if len(s) > 0 && s[0] == ' ' {
		return s[1:]
	}
	return s
}

// stamp3164 reads "Mmm dd hh:mm:ss" (day space- or zero-padded) or an RFC
// 3339 timestamp at the start of s, returning it and its length.
func (p *Parser) stamp3164(s string) (pcommon.Timestamp, int, bool) {
	if len(s) >= 15 && s[3] == ' ' && s[9] == ':' && s[12] == ':' && (len(s) == 15 || s[15] == ' ') {
		month := stampMonth(s[:3])
		day, ok1 := stampTwoDigits(s[4], s[5])
		hh, ok2 := stampTwoDigits(s[7], s[8])
		mm, ok3 := stampTwoDigits(s[10], s[11])
		ss, ok4 := stampTwoDigits(s[13], s[14])
		if month == 0 || !ok1 || !ok2 || !ok3 || !ok4 || s[6] != ' ' || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
			return 0, 0, false
		}
		now := p.now()
		loc := p.location()
		t := time.Date(now.Year(), month, day, hh, mm, ss, 0, loc)
		// No year in the stamp: one more than a week ahead of now is
		// from last year (a December line read in January).
		if t.Sub(now) > 7*24*time.Hour {
			t = time.Date(now.Year()-1, month, day, hh, mm, ss, 0, loc)
		}
		return pcommon.NewTimestampFromTime(t), 15, true
	}
	if len(s) >= 20 && s[4] == '-' && s[10] == 'T' {
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			end = len(s)
		}
		t, err := time.Parse(time.RFC3339Nano, s[:end])
		if err != nil {
			return 0, 0, false
		}
		return pcommon.NewTimestampFromTime(t), end, true
	}
	return 0, 0, false
}

// stampTwoDigits reads "dd" or " d".
func stampTwoDigits(a, b byte) (int, bool) {
	if b < '0' || b > '9' {
		return 0, false
	}
	switch {
	case a == ' ':
		return int(b - '0'), true
	case a >= '0' && a <= '9':
		return int(a-'0')*10 + int(b-'0'), true
	}
	return 0, false
}

func stampMonth(s string) time.Month {
	switch s {
	case "Jan":
		return time.January
	case "Feb":
		return time.February
	case "Mar":
		return time.March
	case "Apr":
		return time.April
	case "May":
		return time.May
	case "Jun":
		return time.June
	case "Jul":
		return time.July
	case "Aug":
		return time.August
	case "Sep":
		return time.September
	case "Oct":
		return time.October
	case "Nov":
		return time.November
	case "Dec":
		return time.December
	}
	return 0
}
