package jsonstr

import (
	"encoding/json"
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

// FuzzAppend: whatever the input, the output is valid JSON that decodes to
// the input with invalid UTF-8 replaced.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "x", "\"\\", "\n\x00", "\xff\xfe", "✓\xe2\x82"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Append(nil, s)
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
