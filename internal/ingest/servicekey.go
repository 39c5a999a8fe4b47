package ingest

import (
	"bytes"

	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// The fair share needs each line's service when the reader hands the line
// over, before it is parsed (parsing happens in the Stage's sender, and
// only for what is kept). With a trusted identity (a systemd unit, a
// FIFO's service) that is known per source; otherwise it is the syslog
// app name, which appName reads from the header the way the parser does
// (internal/syslog parse3164.go and parse5424.go) without parsing the
// rest. Where the two could disagree on a malformed header, only which
// share the line counts against differs, never what is delivered.

// ServiceKey says how Lines tells a line's service before parsing: the
// same for every line of the source, or its syslog app name.
type ServiceKey struct {
	// service is the fixed service, or the app name's fallback.
	service     string
	fromAppName bool
}

// FixedServiceKey: every line of the source is of service (a trusted
// identity: a systemd unit, a FIFO's service, a writer's uid).
func FixedServiceKey(service string) *ServiceKey { return &ServiceKey{service: service} }

// AppNameServiceKey: a line is of its syslog app name, or of fallback
// when it has none.
func AppNameServiceKey(fallback string) *ServiceKey {
	return &ServiceKey{service: fallback, fromAppName: true}
}

// maxAppNameLen bounds an RFC 3164 TAG, as the parser does.
const maxAppNameLen = 64

// appName returns the syslog app name of line in format, or nil.
func appName(line []byte, format syslog.Format) []byte {
	n, ok := skipPRI(line)
	if !ok || format == syslog.FormatRaw {
		return nil
	}
	rest := line[n:]
	is5424 := len(rest) > 1 && rest[0] == '1' && rest[1] == ' '
	switch {
	case format == syslog.FormatRFC5424 || (format == syslog.FormatAuto && is5424):
		if !is5424 {
			return nil
		}
		return appName5424(rest[2:])
	default:
		return appName3164(rest)
	}
}

func skipPRI(line []byte) (int, bool) {
	if len(line) < 3 || line[0] != '<' {
		return 0, false
	}
	for i := 1; i < len(line) && i <= 4; i++ {
		c := line[i]
		if c == '>' {
			return i + 1, i > 1
		}
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	return 0, false
}

// appName5424 reads APP-NAME, the third field after the version.
func appName5424(rest []byte) []byte {
	for i := range 3 {
		sp := bytes.IndexByte(rest, ' ')
		if sp <= 0 {
			return nil
		}
		if i == 2 {
			if f := rest[:sp]; !(len(f) == 1 && f[0] == '-') {
				return f
			}
			return nil
		}
		rest = rest[sp+1:]
	}
	return nil
}

// appName3164 skips the timestamp, if any, and reads the TAG, after a
// HOSTNAME or not.
func appName3164(rest []byte) []byte {
	switch {
	case len(rest) >= 15 && rest[3] == ' ' && rest[9] == ':' && rest[12] == ':' && (len(rest) == 15 || rest[15] == ' '):
		rest = rest[15:]
	case len(rest) >= 20 && rest[4] == '-' && rest[10] == 'T':
		if sp := bytes.IndexByte(rest, ' '); sp >= 0 {
			rest = rest[sp:]
		} else {
			rest = nil
		}
	}
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	if tag := tagAt(rest); tag != nil {
		return tag
	}
	if sp := bytes.IndexByte(rest, ' '); sp > 0 {
		return tagAt(rest[sp+1:])
	}
	return nil
}

// tagAt reads "TAG:" or "TAG[PID]" at the start of s.
func tagAt(s []byte) []byte {
	for i := 0; i < len(s) && i <= maxAppNameLen; i++ {
		switch s[i] {
		case ':':
			if i == 0 {
				return nil
			}
			return s[:i]
		case '[':
			if i == 0 {
				return nil
			}
			end := bytes.IndexByte(s[i+1:], ']')
			if end < 0 || end > 20 {
				return nil
			}
			return s[:i]
		case ' ', '\t':
			return nil
		}
	}
	return nil
}
