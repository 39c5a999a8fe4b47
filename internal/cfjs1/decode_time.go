package cfjs1

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// parseUTCTimestamp reads the form the encoder writes,
// YYYY-MM-DDTHH:MM:SS[.1 to 9 digits]Z, without time.Parse's string
// conversion. Anything else (an offset, more than 9 fraction digits, a
// value out of range) returns false and is left to time.Parse, which also
// words the error; so for what it accepts, it agrees with time.Parse.
func parseUTCTimestamp(s []byte) (pcommon.Timestamp, bool) {
	const base = len("2006-01-02T15:04:05Z")
	if len(s) < base || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	nsec := 0
	if frac := s[19 : len(s)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return 0, false
		}
		n, ok := digits(frac[1:])
		if !ok {
			return 0, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	if year < 1970 || year > 2261 {
		// Before the epoch, or past what Unix nanoseconds hold: whatever
		// time.Date and UnixNano make of it.
		return pcommon.NewTimestampFromTime(time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)), true
	}
	secs := (daysSinceEpoch(year, month, day)*24+int64(hour))*3600 + int64(minute)*60 + int64(sec)
	return pcommon.Timestamp(secs*1e9 + int64(nsec)), true //nolint:gosec // G115: year 1970..2261 checked above: secs*1e9+nsec is positive and fits
}

// daysSinceEpoch counts the days from 1970-01-01 to a date of 1970 or
// later in the proleptic Gregorian calendar (as time.Date does), counting
// years from March so that the leap day comes last.
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era, yoe := year/400, year%400 // year >= 1969: no negative division
	mp := (month + 9) % 12         // March is 0
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097+doe) - 719468 // 719468: days from 0000-03-01 to 1970-01-01
}

// digits reads a run of ASCII digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
