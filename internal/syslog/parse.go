package syslog

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/sharedvalue"
)

// Format says how received lines are parsed.
type Format uint8

const (
	// FormatAuto parses a line starting "<PRI>1 " as RFC 5424 and any other
	// as RFC 3164.
	FormatAuto Format = iota
	// FormatRFC3164 parses BSD syslog, with or without a HOSTNAME (the
	// local form syslog(3) writes to /dev/log has none).
	FormatRFC3164
	// FormatRFC5424 parses IETF syslog.
	FormatRFC5424
	// FormatRaw keeps the line as the body and sets nothing else.
	FormatRaw
)

var formatNames = [...]string{FormatAuto: "auto", FormatRFC3164: "rfc3164", FormatRFC5424: "rfc5424", FormatRaw: "raw"}

// String returns the configuration name of the format.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", f)
}

// MarshalText implements encoding.TextMarshaler.
func (f Format) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText accepts "auto", "rfc3164", "rfc5424" or "raw".
func (f *Format) UnmarshalText(text []byte) error {
	for i, n := range formatNames {
		if string(text) == n {
			*f = Format(i)
			return nil
		}
	}
	return fmt.Errorf("format %q is not known: write one of \"auto\", \"rfc3164\", \"rfc5424\" or \"raw\"", text)
}

// ParseError says why a line is not valid syslog. The record then holds the
// whole line as its body, so nothing is lost; the receiver counts it.
type ParseError struct {
	Reason string // short, for a metric attribute: "no_pri", "bad_header", ...
}

func (e *ParseError) Error() string { return "syslog: " + e.Reason }

var (
	errNoPRI        = &ParseError{Reason: "no_pri"}
	errBadVersion   = &ParseError{Reason: "bad_version"}
	errBadHeader    = &ParseError{Reason: "bad_header"}
	errBadTimestamp = &ParseError{Reason: "bad_timestamp"}
	errBadSD        = &ParseError{Reason: "bad_structured_data"}
)

// IsParseError reports whether err is a *ParseError.
func IsParseError(err error) bool {
	var pe *ParseError
	return errors.As(err, &pe)
}

// Parser turns syslog lines into log records. The zero value parses with
// FormatAuto in the local time zone. A Parser is not safe for concurrent
// use (it caches the current year).
type Parser struct {
	Format Format
	// Location is the zone of RFC 3164 timestamps, which carry none.
	// nil means time.Local.
	Location *time.Location
	// Now returns the current time, for the year RFC 3164 timestamps lack.
	// nil means time.Now.
	Now func() time.Time
	// MaxSDElements bounds the RFC 5424 structured-data elements of one
	// message that become attributes (DefaultMaxSDElements if <= 0).
	MaxSDElements int
	// MaxSDParams bounds the RFC 5424 structured-data parameters of one
	// message, over all its elements, that become attributes
	// (DefaultMaxSDParams if <= 0).
	MaxSDParams int

	recent headerValues
	sd     sdScratch
}

// headerValues let consecutive lines share their header fields' values
// (see internal/sharedvalue): a batch's lines mostly come from one program
// on one host, so this saves an allocation per field per line.
type headerValues struct {
	host, app, procID, msgID sharedvalue.Slot
}

// numbers are the values of syslog.facility (0..23) and syslog.version
// (1), made once and shared by every record (see internal/sharedvalue).
var numbers = sync.OnceValue(func() (n [24]sharedvalue.Value) {
	for i := range n {
		n[i] = sharedvalue.Of(pcommon.NewValueInt(int64(i)))
	}
	return n
})

// Parse fills lr from one line. Attribute values and the body are
// substrings of line, so a caller that converts a whole batch of lines to
// one string pays one allocation for all of their text.
//
// On a ParseError lr holds the whole line as its body (and whatever header
// fields were read before the error); the record is still worth keeping.
func (p *Parser) Parse(line string, lr plog.LogRecord) error {
	switch p.Format {
	case FormatRaw:
		lr.Body().SetStr(line)
		return nil
	case FormatRFC5424:
		return p.parse5424(line, lr)
	case FormatRFC3164:
		return p.parse3164(line, lr)
	default:
		if isRFC5424(line) {
			return p.parse5424(line, lr)
		}
		return p.parse3164(line, lr)
	}
}

// isRFC5424 reports whether line starts "<PRI>1 ".
func isRFC5424(line string) bool {
	_, n, ok := parsePRI(line)
	return ok && len(line) > n+1 && line[n] == '1' && line[n+1] == ' '
}

// parsePRI reads "<N>" with N in 0..191, returning N and the length read.
func parsePRI(line string) (pri int, n int, ok bool) {
	if len(line) < 3 || line[0] != '<' {
		return 0, 0, false
	}
	for i := 1; i < len(line) && i <= 4; i++ {
		c := line[i]
		if c == '>' {
			if i == 1 || pri > 191 {
				return 0, 0, false
			}
			return pri, i + 1, true
		}
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		pri = pri*10 + int(c-'0')
	}
	return 0, 0, false
}

// setPRI writes severity and facility (pri is 0..191).
func setPRI(pri int, lr plog.LogRecord) {
	sev := Severity(pri & 7)
	lr.SetSeverityNumber(sev.OTel())
	lr.SetSeverityText(sev.Text())
	numbers()[pri>>3].CopyTo(lr.Attributes().PutEmpty(logattr.SyslogFacility))
}

func (p *Parser) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Parser) location() *time.Location {
	if p.Location != nil {
		return p.Location
	}
	return time.Local
}
