package cfjs1

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// str parses a JSON string and appends its content, unescaped, to d.text;
// it returns where. Invalid UTF-8 is replaced by U+FFFD (pdata strings must
// be valid UTF-8 to be sent on as OTLP).
func (d *decoder) str() (span, error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return span{}, d.fail("expected a string")
	}
	d.i++
	start := d.i
	rest := d.b[start:]
	// One pass over the string for its end, escapes, control characters
	// and non-ASCII bytes. The order of the checks is the decoder's
	// contract: a string without a closing quote is unterminated whatever
	// it holds; a backslash hands over to escapedStr, which reads the bytes
	// before it as they are; otherwise a control character is an error.
	ctl := -1
	ascii := true
	for j, c := range rest {
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
				d.i = start + ctl
				return span{}, d.fail("control character inside a string")
			}
			s := rest[:j]
			d.i = start + j + 1
			at := len(d.text)
			if ascii || utf8.Valid(s) {
				d.text = append(d.text, s...)
			} else {
				d.text = appendValidUTF8(d.text, s)
			}
			return span{at, len(d.text)}, nil
		case '\\':
			if bytes.IndexByte(rest[j+1:], '"') < 0 {
				d.i = len(d.b)
				return span{}, d.fail("unterminated string")
			}
			d.i = start + j
			return d.escapedStr(start)
		default:
			if ctl < 0 {
				ctl = j
			}
		}
	}
	d.i = len(d.b)
	return span{}, d.fail("unterminated string")
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

func (d *decoder) escapedStr(start int) (span, error) {
	at := len(d.text)
	d.text = append(d.text, d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if out := d.text[at:]; !utf8.Valid(out) {
				d.tmp = append(d.tmp[:0], out...)
				d.text = appendValidUTF8(d.text[:at], d.tmp)
			}
			return span{at, len(d.text)}, nil
		case c < 0x20:
			return span{}, d.fail("control character inside a string")
		case c != '\\':
			// Copy the run of plain bytes up to the next quote, backslash
			// or control character at once.
			j := d.i + 1
			for j < len(d.b) && strClass[d.b[j]] != classSpecial {
				j++
			}
			d.text = append(d.text, d.b[d.i:j]...)
			d.i = j
			continue
		}
		if d.i+1 >= len(d.b) {
			break
		}
		e := d.b[d.i+1]
		d.i += 2
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
			r, ok := d.hex4()
			if !ok {
				return span{}, d.fail(`invalid \u escape`)
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
					save := d.i
					d.i += 2
					if lo, ok := d.hex4(); ok {
						if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
							r2 = dec
						} else {
							d.i = save
						}
					} else {
						return span{}, d.fail(`invalid \u escape`)
					}
				}
				r = r2
			}
			d.text = utf8.AppendRune(d.text, r)
		default:
			return span{}, d.fail(fmt.Sprintf(`invalid escape \%c`, e))
		}
	}
	return span{}, d.fail("unterminated string")
}

func (d *decoder) hex4() (rune, bool) {
	if len(d.b)-d.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
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
	d.i += 4
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
