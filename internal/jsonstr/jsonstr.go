// Package jsonstr appends Go strings as JSON strings, for the hand-written
// JSON writers of the cfjs1 codec, the logfile exporter's json format and
// the tenantbuffer push jobs: one escaper, so all of them agree on what a
// log's bytes become.
package jsonstr // import "github.com/otelcol-logx/otelcol-logx/internal/jsonstr"

import (
	"math/bits"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plain marks the bytes a JSON string holds as they are: printable ASCII
// other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Append writes s as a JSON string: quotes, backslashes and control
// characters escaped, each byte of invalid UTF-8 replaced by U+FFFD (the
// character itself, as pdata's own JSON writes it), so the output is valid
// JSON whatever the log held. It does not allocate beyond growing dst.
func Append(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is plain and not yet in dst
	for i := 0; i < len(s); {
		// Most of a log line is plain ASCII: pass it eight bytes at a time,
		// and go straight to the first byte of a word that is not.
		if i+8 <= len(s) {
			m := notPlain(load8(s, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		}
		c := s[i]
		if plain[c] { // only in the last seven bytes
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		dst = appendEscaped(append(dst, s[start:i]...), c)
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscaped writes c, a byte that is not plain ASCII and not part of
// valid UTF-8, as JSON.
func appendEscaped(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if c < utf8.RuneSelf {
		return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(dst, "\ufffd"...) // a byte of invalid UTF-8
}

// Word-at-a-time tests on eight bytes, little-endian. Each sets the high
// bit of a byte that matches; a borrow may also set it in bytes above a
// match, never below, so the lowest bit set is the first match.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// notPlain marks the bytes of x that are not plain: the lowest one marked is
// the first, and none is marked if all eight are plain.
func notPlain(x uint64) uint64 {
	return x&highs | below(x, 0x20) | zeroByte(x^(ones*'"')) | zeroByte(x^(ones*'\\'))
}

// zeroByte is non-zero if a byte of x is 0.
func zeroByte(x uint64) uint64 { return (x - ones) &^ x & highs }

// below is non-zero if a byte of x is under n (n at most 0x80).
func below(x uint64, n uint64) uint64 { return (x - ones*n) &^ x & highs }

// load8 reads s[i:i+8] little-endian; the compiler makes it one load.
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
