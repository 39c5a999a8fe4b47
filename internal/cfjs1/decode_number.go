package cfjs1

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// number parses the JSON number at i into an int node, or a double node
// when it has a fraction or an exponent or does not fit an int64.
func (d *decoder) number(i int, dest nodeDest, key span) (int, error) {
	b, start := d.b, i
	i, isFloat, ok := scanNumber(b, i)
	text := b[start:i]
	if !ok {
		return i, d.fail(start, fmt.Sprintf("invalid number %q", text))
	}
	if !isFloat {
		if n, ok := parseInt64(text); ok {
			d.push(kindInt, dest, key, span{}, n)
			return i, nil
		}
	}
	f, ok := parseShortDecimal(text)
	if !ok {
		// The conversion does not allocate: the string does not escape.
		// JSON's grammar, checked above, is stricter than ParseFloat's.
		var err error
		f, err = strconv.ParseFloat(string(text), 64)
		if err != nil && !(errors.Is(err, strconv.ErrRange) && !math.IsNaN(f)) {
			return i, d.fail(start, fmt.Sprintf("invalid number %q", text))
		}
	}
	d.push(kindDouble, dest, key, span{}, int64(math.Float64bits(f))) //nolint:gosec // G115: the float's bits, read back with Float64frombits
	return i, nil
}

// scanNumber reads JSON's number grammar at i:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. It returns where the
// number ends (where it stopped, if it is not one), whether it has a
// fraction or an exponent, and whether it is a number.
func scanNumber(b []byte, i int) (int, bool, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digitsEnd(b, i+1)
	default:
		return i, false, false
	}
	isFloat := false
	if i < len(b) && b[i] == '.' {
		isFloat = true
		end := digitsEnd(b, i+1)
		if end == i+1 {
			return end, true, false
		}
		i = end
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isFloat = true
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		end := digitsEnd(b, i)
		if end == i {
			return end, true, false
		}
		i = end
	}
	// A number runs into the next token: "01", "1.5.5" or "1x" must not
	// be read as a number and then something else.
	if i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] == '+' || b[i] == '-') {
		return i + 1, isFloat, false
	}
	return i, isFloat, true
}

// digitsEnd returns the position of the first byte at or after i that is not
// a decimal digit.
func digitsEnd(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// parseInt64 reads -?[0-9]+ (already checked by number) as an int64; false
// when it does not fit, and the number is then read as a double.
func parseInt64(text []byte) (int64, bool) {
	neg := text[0] == '-'
	if neg {
		text = text[1:]
	}
	if len(text) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range text {
		u = u*10 + uint64(c-'0') // 19 digits cannot overflow a uint64
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true // -(1<<63) wraps to itself: math.MinInt64
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// parseShortDecimal reads the usual double of a log line, -?[0-9]+.[0-9]+
// with at most 15 digits and no exponent, without strconv: the digits are
// an exact float64 and so is the power of ten, and IEEE division rounds
// correctly, so the result is the one strconv.ParseFloat gives (this is
// its own exact fast path, without the parsing around it). Anything else
// returns false.
func parseShortDecimal(text []byte) (float64, bool) {
	neg := text[0] == '-'
	if neg {
		text = text[1:]
	}
	if len(text) > 16 {
		return 0, false
	}
	var mant uint64
	frac := -1 // digits after the point; -1 before it
	for _, c := range text {
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return 0, false
		}
	}
	if frac <= 0 { // no point, or nothing after it (refused by strconv)
		return 0, false
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// pow10 holds the powers of ten up to 1e15, all exact in a float64.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}
