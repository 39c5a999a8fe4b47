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
// string attributes (structureddata.go).
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

	msg, err := p.parseSD(rest, attrs)
	if err != nil {
		lr.Body().SetStr(line)
		return err
	}
	lr.Body().SetStr(strings.TrimPrefix(msg, byteOrderMark))
	return nil
}
