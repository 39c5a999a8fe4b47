package push

import (
	"net/http"
	"strings"
	"time"
)

// RetryAfter is a destination's Retry-After header, parsed: either a delay
// (delta-seconds) or a date (HTTP-date). The endpoint may be hostile or
// broken, so parsing allocates nothing whatever the value, a delay too
// long to represent saturates, and the pusher caps what it honours.
type RetryAfter struct {
	kind  retryAfterKind
	delay time.Duration // afterDelay
	at    time.Time     // afterDate
}

type retryAfterKind uint8

const (
	afterNone  retryAfterKind = iota // no header
	afterBad                         // present but unusable: ignored
	afterDelay                       // delta-seconds
	afterDate                        // HTTP-date
)

// Outcomes of a Retry-After, as counted by the pusher.
const (
	RetryAfterHonoured = "honoured" // waited as asked (a date already past asks for no wait)
	RetryAfterCapped   = "capped"   // asked for longer than the cap: waited the cap
	RetryAfterIgnored  = "ignored"  // negative, fractional, empty or garbage: backoff only
)

// maxDeltaSeconds saturates delta-seconds: far beyond any cap, and its
// duration still fits an int64.
const maxDeltaSeconds = 1 << 32

// parseRetryAfter reads a response's Retry-After (its first value).
func parseRetryAfter(h http.Header) RetryAfter {
	vs := h["Retry-After"]
	if len(vs) == 0 {
		return RetryAfter{}
	}
	v := vs[0]
	if secs, ok := parseDeltaSeconds(v); ok {
		return RetryAfter{kind: afterDelay, delay: time.Duration(secs) * time.Second}
	}
	if t, ok := parseHTTPDate(v); ok {
		return RetryAfter{kind: afterDate, at: t}
	}
	return RetryAfter{kind: afterBad}
}

// parseDeltaSeconds reads 1*DIGIT, saturating at maxDeltaSeconds.
func parseDeltaSeconds(v string) (int64, bool) {
	if v == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxDeltaSeconds {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, maxDeltaSeconds), true
}

// parseHTTPDate reads the three forms of an HTTP-date a recipient must
// accept, by hand: time.Parse allocates (a zone for "GMT", an error that
// copies its input), and the input is the endpoint's.
//
//	IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
//	RFC 850      Sunday, 06-Nov-94 08:49:37 GMT
//	asctime      Sun Nov  6 08:49:37 1994
func parseHTTPDate(v string) (time.Time, bool) {
	var day, year int
	var month time.Month
	var clock string
	var ok bool
	switch {
	case len(v) == 29 && v[3] == ',': // IMF-fixdate
		ok = v[4] == ' ' && v[7] == ' ' && v[11] == ' ' && v[16] == ' ' && v[25:] == " GMT"
		day, month, year, clock = number(v[5:7]), monthOf(v[8:11]), number(v[12:16]), v[17:25]
	case len(v) == 24 && v[3] == ' ': // asctime
		ok = v[7] == ' ' && v[10] == ' ' && v[19] == ' '
		d := v[8:10]
		if d[0] == ' ' {
			d = d[1:]
		}
		day, month, year, clock = number(d), monthOf(v[4:7]), number(v[20:24]), v[11:19]
	default: // RFC 850: the weekday's full name, then ", 06-Nov-94 08:49:37 GMT"
		i := strings.IndexByte(v, ',')
		if i < 6 || i > 9 || len(v)-i != 24 {
			return time.Time{}, false
		}
		r := v[i+1:]
		ok = r[0] == ' ' && r[3] == '-' && r[7] == '-' && r[10] == ' ' && r[19:] == " GMT"
		day, month, year, clock = number(r[1:3]), monthOf(r[4:7]), number(r[8:10]), r[11:19]
		if year >= 0 { // as time.Parse reads a two-digit year
			year += 1900
			if year < 1969 {
				year += 100
			}
		}
	}
	hour, minute, sec := number(clock[0:2]), number(clock[3:5]), number(clock[6:8])
	if !ok || clock[2] != ':' || clock[5] != ':' || month == 0 || day < 1 || day > 31 || year < 0 ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 60 {
		return time.Time{}, false
	}
	return time.Date(year, month, day, hour, minute, sec, 0, time.UTC), true
}

// number reads a run of decimal digits; -1 if s is empty or holds anything else.
func number(s string) int {
	if s == "" {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func monthOf(s string) time.Month {
	for i, m := range months {
		if s == m {
			return time.Month(i + 1)
		}
	}
	return 0
}

// wait is how long the Retry-After asks the tenant to wait at now, at most
// limit, and the outcome to count ("" when there was no header).
func (r RetryAfter) wait(now time.Time, limit time.Duration) (time.Duration, string) {
	var d time.Duration
	switch r.kind {
	case afterNone:
		return 0, ""
	case afterBad:
		return 0, RetryAfterIgnored
	case afterDelay:
		d = r.delay
	case afterDate:
		// Compared in seconds: a date thousands of years away does not fit
		// a Duration.
		secs := r.at.Unix() - now.Unix()
		switch {
		case secs <= 0:
			return 0, RetryAfterHonoured
		case secs > int64(limit/time.Second)+1:
			return limit, RetryAfterCapped
		}
		d = max(r.at.Sub(now), 0)
	}
	if d > limit {
		return limit, RetryAfterCapped
	}
	return d, RetryAfterHonoured
}

// ThrottledError is a destination asking to be left alone for a while
// (HTTP 429 or 503): retried with the tenant's backoff, and not before the
// Retry-After it sent, if any (capped).
type ThrottledError struct {
	Err        error
	RetryAfter RetryAfter
}

func (e *ThrottledError) Error() string { return e.Err.Error() }
func (e *ThrottledError) Unwrap() error { return e.Err }
