package jsonstr

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppend(t *testing.T) {
	cases := map[string]string{
		"":            `""`,
		"plain":       `"plain"`,
		`a"b\c`:       `"a\"b\\c"`,
		"l1\nl2\r\t":  `"l1\nl2\r\t"`,
		"\x00\x1f":    `"\u0000\u001f"`,
		"héllo ✓":     `"héllo ✓"`,
		"bad\xffbyte": "\"bad\ufffdbyte\"",
		"\xe2\x82":    "\"\ufffd\ufffd\"",
	}
	for in, want := range cases {
		assert.Equal(t, want, string(Append(nil, in)), "input %q", in)
	}
}

func TestAppendDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], "a \"quoted\"\tline with ✓ and \xff") })
	assert.Zero(t, allocs)
}

// TestAppendEveryByteAtEveryPlace: each byte value, alone among plain
// bytes, at each place of two words and the tail, escapes as one byte at a
// time would.
func TestAppendEveryByteAtEveryPlace(t *testing.T) {
	plainRun := strings.Repeat("abcdefgh", 3)[:19]
	for c := 0; c < 256; c++ {
		for at := 0; at < len(plainRun); at++ {
			in := plainRun[:at] + string([]byte{byte(c)}) + plainRun[at+1:]
			require.Equal(t, string(appendByteAtATime(nil, in)), string(Append(nil, in)), "byte %#x at %d", c, at)
		}
	}
}

// appendByteAtATime is Append without the word-at-a-time pass: the
// reference the fuzz target compares against.
func appendByteAtATime(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case plain[c]:
			dst = append(dst, c)
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		case c < utf8.RuneSelf:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, "\ufffd"...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return append(dst, '"')
}

// FuzzAppend: whatever the input, the output is what escaping one byte at
// a time gives, and valid JSON that decodes to the input with invalid UTF-8
// replaced.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{
		"", "x", "\"\\", "\n\x00", "\xff\xfe", "✓\xe2\x82",
		"<13>Dec  3 09:51:47 host nginx[812]: GET /index.html 200",
		"seven b\"eight by\\tes then\x7f\x1f a tail", "plain plain plain ✓ plain plain\xff",
		"ab\x00\x00\"\\\x1f\x20\x21\x7f\x80 borrows across neighbours", // specials side by side
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Append(nil, s)
		require.Equal(t, string(appendByteAtATime(nil, s)), string(out))
		var got string
		require.NoError(t, json.Unmarshal(out, &got), "output %q", out)
		want := []rune{}
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			want = append(want, r)
			i += size
		}
		require.Equal(t, string(want), got)
	})
}

// BenchmarkAppend: a log line of printable ASCII (the common case), one with
// escapes, and one of UTF-8 text, per byte of input.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"ascii", "<13>Dec  3 09:51:47 web-17 nginx[812]: 10.0.0.7 - - GET /api/v1/orders?id=77812 HTTP/1.1 200 512 0.004 upstream=10.0.3.2:8080"},
		{"escapes", "level=info msg=\"request done\" path=\"C:\\srv\\app\"\tstatus=200\ttook=4ms\n"},
		{"utf8", "Zugriff verweigert: Benutzer „müller“ hat keine Berechtigung für /daten/überblick ✓"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 512)
			b.SetBytes(int64(len(bc.s)))
			b.ReportAllocs()
			for b.Loop() {
				buf = Append(buf[:0], bc.s)
			}
		})
	}
}
