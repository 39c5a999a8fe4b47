package ratelimitprocessor

import (
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"
)

// severityBase maps the OTel short severity names to the first number of
// their range (TRACE=1 ... FATAL=21); each range has four numbers.
var severityBase = map[string]plog.SeverityNumber{
	"TRACE": plog.SeverityNumberTrace,
	"DEBUG": plog.SeverityNumberDebug,
	"INFO":  plog.SeverityNumberInfo,
	"WARN":  plog.SeverityNumberWarn,
	"ERROR": plog.SeverityNumberError,
	"FATAL": plog.SeverityNumberFatal,
}

// parseSeverity reads "ERROR", "error3", "WARN" or a number 1..24.
func parseSeverity(s string) (plog.SeverityNumber, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 24 {
			return 0, fmt.Errorf("severity number %d is out of range: write 1..24 or a name such as ERROR", n)
		}
		return plog.SeverityNumber(n), nil
	}
	name, step := s, 1
	if l := len(s); l > 0 && s[l-1] >= '2' && s[l-1] <= '4' {
		name, step = s[:l-1], int(s[l-1]-'0')
	}
	base, ok := severityBase[name]
	if !ok {
		return 0, fmt.Errorf("unknown severity %q: write TRACE, DEBUG, INFO, WARN, ERROR or FATAL (optionally followed by 2, 3 or 4), or a number 1..24", s)
	}
	return base + plog.SeverityNumber(step-1), nil
}
