package cfjs1

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// str parses the JSON string at i and returns where its content is in
// d.text: in the copy of the line when it has no escapes, else appended,
// unescaped. Invalid UTF-8 is replaced by U+FFFD (pdata strings must be
// valid UTF-8 to be sent on as OTLP).
func (d *decoder) str(i int) (int, span, error) {
	if i >= len(d.b) || d.b[i] != '"' {
		if i < len(d.b) && startsValue(d.b[i]) {
			return i, span{}, d.failRecord(i, "expected a string")
		}
		return i, span{}, d.fail(i, "expected a string")
	}
	start := i + 1
	rest := d.b[start:]
	// One pass over the string for its end, escapes, control characters
	// and non-ASCII bytes. The order of the checks is the decoder's
	// contract: a string without a closing quote is unterminated whatever
	// it holds; a backslash hands over to escapedStr, which reads the bytes
	// before it as they are; otherwise a control character is an error.
	ctl := -1
	ascii := true
	for j := plainPrefix(rest); j < len(rest); j++ {
		c := rest[j]
		switch strClass[c] {
		case classPlain:
			continue
		case classNonASCII:
			ascii = false
			continue
		}
		switch c {
		case '"':
			if ctl >= 0 {
				return start + ctl, span{}, d.fail(start+ctl, "control character inside a string")
			}
			s := rest[:j]
			if ascii || utf8.Valid(s) {
				return start + j + 1, span{start, start + j}, nil
			}
			at := len(d.text)
			d.text = appendValidUTF8(d.text, s)
			return start + j + 1, span{at, len(d.text)}, nil
		case '\\':
			if bytes.IndexByte(rest[j+1:], '"') < 0 {
				return len(d.b), span{}, d.fail(len(d.b), "unterminated string")
			}
			return d.escapedStr(start, start+j)
		default:
			if ctl < 0 {
				ctl = j
			}
		}
	}
	return len(d.b), span{}, d.fail(len(d.b), "unterminated string")
}

// plainPrefix skips b's plain bytes (classPlain) eight at a time: it
// returns the position of the first byte that is not plain, or of the
// last seven or fewer bytes, which it leaves to the caller. Most strings
// of a line are plain, and the line goes on after them, so this usually
// stops at the closing quote.
func plainPrefix(b []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	n := 0
	for ; len(b)-n >= 8; n += 8 {
		x := binary.LittleEndian.Uint64(b[n:])
		// The high bit of each byte that is '"' or '\\' (a zero byte of x
		// xor the character), or below 0x20, or 0x80 and above. Borrows
		// can mark bytes after the first marked one too, never before it.
		q, bs := x^(ones*'"'), x^(ones*'\\')
		m := ((q-ones)&^q | (bs-ones)&^bs | (x - ones*0x20) | x) & highs
		if m != 0 {
			return n + bits.TrailingZeros64(m)/8
		}
	}
	return n
}

// strClass sorts bytes for str: plain ASCII, the bytes it must look at
// (the quote, the backslash and control characters), and the bytes of
// non-ASCII characters (which call for a UTF-8 check).
var strClass = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = classSpecial
	}
	t['"'], t['\\'] = classSpecial, classSpecial
	for c := 0x80; c < 0x100; c++ {
		t[c] = classNonASCII
	}
	return t
}()

const (
	classPlain = iota
	classSpecial
	classNonASCII
)

// escapedStr reads the rest of the string that begins at start, from its
// first backslash at i, unescaping it into d.text.
func (d *decoder) escapedStr(start, i int) (int, span, error) {
	b := d.b
	at := len(d.text)
	d.text = append(d.text, b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			if out := d.text[at:]; !utf8.Valid(out) {
				d.tmp = append(d.tmp[:0], out...)
				d.text = appendValidUTF8(d.text[:at], d.tmp)
			}
			return i + 1, span{at, len(d.text)}, nil
		case c < 0x20:
			return i, span{}, d.fail(i, "control character inside a string")
		case c != '\\':
			// Copy the run of plain bytes up to the next quote, backslash
			// or control character at once.
			j := i + 1
			j += plainPrefix(b[j:])
			for j < len(b) && strClass[b[j]] != classSpecial {
				j++
			}
			d.text = append(d.text, b[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(b) {
			break
		}
		e := b[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			d.text = append(d.text, e)
		case 'n':
			d.text = append(d.text, '\n')
		case 'r':
			d.text = append(d.text, '\r')
		case 't':
			d.text = append(d.text, '\t')
		case 'b':
			d.text = append(d.text, '\b')
		case 'f':
			d.text = append(d.text, '\f')
		case 'u':
			r, ok := hex4(b, i)
			if !ok {
				return i, span{}, d.fail(i, `invalid \u escape`)
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					lo, ok := hex4(b, i+2)
					if !ok {
						return i + 2, span{}, d.fail(i+2, `invalid \u escape`)
					}
					// A pair is taken whole; a second escape that does not
					// complete it is read on its own.
					if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
						r2 = dec
						i += 6
					}
				}
				r = r2
			}
			d.text = utf8.AppendRune(d.text, r)
		default:
			return i, span{}, d.fail(i, fmt.Sprintf(`invalid escape \%c`, e))
		}
	}
	return len(b), span{}, d.fail(i, "unterminated string")
}

// hex4 reads the four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if len(b)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func appendValidUTF8(dst, s []byte) []byte {
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\ufffd"...)
		} else {
			dst = append(dst, s[:size]...)
		}
		s = s[size:]
	}
	return dst
}

// startsValue reports whether c begins a JSON value other than a string:
// where a string was expected, such a value is valid JSON of the wrong type.
func startsValue(c byte) bool {
	switch c {
	case '{', '[', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}
