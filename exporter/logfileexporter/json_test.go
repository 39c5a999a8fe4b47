package logfileexporter

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzJSONString checks that any string becomes valid JSON that decodes
// to the same text (invalid UTF-8 aside, which becomes U+FFFD).
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\ nl\n tab\t nul\x00", "\xff\xfe", "é ☃ 𝄞", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", out, s, err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = strings.ToValidUTF8(s, "\ufffd")
			// ToValidUTF8 merges a run of bad bytes into one U+FFFD; we
			// write one per byte. Compare with runs collapsed.
			back = collapseFFFD(back)
			want = collapseFFFD(want)
		}
		if back != want {
			t.Fatalf("%q decoded as %q, want %q", s, back, want)
		}
	})
}

func collapseFFFD(s string) string {
	for strings.Contains(s, "\ufffd\ufffd") {
		s = strings.ReplaceAll(s, "\ufffd\ufffd", "\ufffd")
	}
	return s
}
