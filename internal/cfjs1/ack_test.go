package cfjs1

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHelloVersion(t *testing.T) {
	for _, tc := range []struct {
		line string
		want int
	}{
		{HelloLine, 2},
		{strings.TrimSpace(HelloLine), 2},
		{HelloLineV1, 1},
		{`{"cfjs1_ctl":"hello"}`, 1},
		{`{"cfjs1_ctl":"hello","version":0}`, 1},
		{`{"cfjs1_ctl":"hello","version":3}`, 2},
		{`{"cfjs1_ctl":"hello","version":18446744073709551615}`, 2},
		{`{"cfjs1_ctl":"hello","version":18446744073709551616}`, 1}, // over uint64
		{`{"cfjs1_ctl":"hello","version":-2}`, 1},
		{`{"cfjs1_ctl":"hello","version":"2"}`, 1},
		{`{"cfjs1_ctl":"hello","version":2,"x":1}`, 1},
		{`{"cfjs1_ctl":"hello","version":2`, 1},
		{`{"cfjs1_ctl":"hello", "version":2}`, 1},
		{`{"cfjs1_ctl":"ping"}`, 1},
	} {
		assert.Equal(t, tc.want, HelloVersion([]byte(tc.line)), tc.line)
	}
	// Both hellos are hellos to a receiver that only knows version 1:
	// it looks at the control word, not the version.
	assert.Equal(t, Hello, ParseControl([]byte(strings.TrimSpace(HelloLine))))
	assert.Equal(t, Hello, ParseControl([]byte(strings.TrimSpace(HelloLineV1))))
}

func TestAppendReject(t *testing.T) {
	assert.JSONEq(t, `{"reject":7,"reason":"line_too_long"}`+"\n", string(AppendReject(nil, 7, "line_too_long")))
	assert.Equal(t, `x{"reject":0,"reason":"unknown"}`+"\n", string(AppendReject([]byte("x"), 0, "")))
	// Whatever the caller passes, the line parses back with a valid reason.
	for _, reason := range []string{"Invalid JSON", `a"}b`, "é", strings.Repeat("z", 100), "\n", "ok_1"} {
		line := AppendReject(nil, 18446744073709551615, reason)
		assert.Equal(t, 1, bytes.Count(line, []byte("\n")), reason)
		r, err := ParseReply(line)
		require.NoError(t, err, reason)
		assert.Equal(t, Reply{Kind: ReplyReject, N: 18446744073709551615, Reason: SanitizeReason(reason)}, r)
		assert.True(t, ValidReason(r.Reason), r.Reason)
	}
	assert.Equal(t, "invalid_json", SanitizeReason("Invalid JSON"))
	assert.Equal(t, "a__b", SanitizeReason(`a"}b`))
	assert.Equal(t, "__", SanitizeReason("é"))
	assert.Len(t, SanitizeReason(strings.Repeat("z", 100)), MaxReasonLen)
}

func TestValidReason(t *testing.T) {
	for reason, want := range map[string]bool{
		"line_too_long":                     true,
		"a":                                 true,
		"0_9":                               true,
		strings.Repeat("a", MaxReasonLen):   true,
		strings.Repeat("a", MaxReasonLen+1): false,
		"":                                  false,
		"Line":                              false,
		"a-b":                               false,
		"a b":                               false,
		"a\x00":                             false,
		"\xff":                              false,
	} {
		assert.Equal(t, want, ValidReason(reason), "%q", reason)
	}
}

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Reply
		err  bool
	}{
		{line: `{"ack":0}`, want: Reply{Kind: ReplyAck}},
		{line: "{\"ack\":12345}\n", want: Reply{Kind: ReplyAck, N: 12345}},
		{line: "{\"ack\":3}\r\n", want: Reply{Kind: ReplyAck, N: 3}},
		{line: `{"ack":18446744073709551615}`, want: Reply{Kind: ReplyAck, N: 18446744073709551615}},
		{line: `{"reject":5,"reason":"invalid_json"}`, want: Reply{Kind: ReplyReject, N: 5, Reason: "invalid_json"}},
		{line: "{\"reject\":1,\"reason\":\"too_many_members\"}\n", want: Reply{Kind: ReplyReject, N: 1, Reason: "too_many_members"}},

		{line: `{"ack":18446744073709551616}`, err: true}, // over uint64
		{line: `{"ack":-1}`, err: true},
		{line: `{"ack":+1}`, err: true},
		{line: `{"ack":}`, err: true},
		{line: `{"ack":1`, err: true},
		{line: `{"ack":1 }`, err: true},
		{line: `{"ack":1}x`, err: true},
		{line: `{"ack":1.5}`, err: true},
		{line: `{"ack":01}`, err: true},
		{line: `{"ack": 1}`, err: true},
		{line: `hello`, err: true},
		{line: ``, err: true},
		{line: `{"reject":5}`, err: true},
		{line: `{"reject":5,"reason":""}`, err: true},
		{line: `{"reject":5,"reason":"Invalid"}`, err: true},
		{line: `{"reject":5,"reason":"a b"}`, err: true},
		{line: `{"reject":5,"reason":"a"}"}`, err: true},
		{line: `{"reject":5,"reason":"` + strings.Repeat("a", MaxReasonLen+1) + `"}`, err: true},
		{line: `{"reject":5,"reason":"a"`, err: true},
		{line: `{"reject":5,"reason":"}`, err: true},
		{line: `{"reject":,"reason":"a"}`, err: true},
		{line: `{"reject":5,"reason":"a","x":1}`, err: true},
	} {
		r, err := ParseReply([]byte(tc.line))
		if tc.err {
			require.Error(t, err, tc.line)
			continue
		}
		require.NoError(t, err, tc.line)
		assert.Equal(t, tc.want, r, tc.line)
	}
}

func TestParseAckOnlyTakesAcks(t *testing.T) {
	n, err := ParseAck(AppendAck(nil, 12345))
	require.NoError(t, err)
	assert.EqualValues(t, 12345, n)
	_, err = ParseAck(AppendReject(nil, 1, "invalid_json"))
	assert.Error(t, err)
}

// FuzzParseReply: no input panics, and every accepted reply is one of the
// two forms, written back byte for byte by AppendAck/AppendReject (so the
// parser accepts nothing looser than what the receiver writes) with a
// reason safe as a metric attribute.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{
		`{"ack":0}`, "{\"ack\":42}\n", `{"ack":18446744073709551615}`, `{"ack":18446744073709551616}`,
		`{"reject":3,"reason":"line_too_long"}`, "{\"reject\":9,\"reason\":\"invalid_json\"}\n",
		`{"reject":1,"reason":"A"}`, `{"reject":1,"reason":""}`, `{"reject":1,"reason":"a"}"}`,
		`{"ack":-1}`, `{"ack":01}`, `{"reject":`, `{"ack":`, ``, "\n", `{"cfjs1_ctl":"ping"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseReply(line)
		if err != nil {
			assert.Equal(t, Reply{}, r)
			return
		}
		trimmed := bytes.TrimRight(line, "\r\n")
		var back []byte
		switch r.Kind {
		case ReplyAck:
			assert.Empty(t, r.Reason)
			back = AppendAck(nil, r.N)
		case ReplyReject:
			require.True(t, ValidReason(r.Reason), "%q", r.Reason)
			back = AppendReject(nil, r.N, r.Reason)
		default:
			t.Fatalf("kind %d accepted", r.Kind)
		}
		assert.Equal(t, string(back[:len(back)-1]), string(trimmed))
	})
}

// FuzzHelloVersion: any line gives a version this package speaks, and
// only a line that is exactly a hello of version 2 or more gives 2.
func FuzzHelloVersion(f *testing.F) {
	for _, s := range []string{HelloLine, HelloLineV1, `{"cfjs1_ctl":"hello"}`, `{"cfjs1_ctl":"hello","version":`,
		`{"cfjs1_ctl":"hello","version":18446744073709551616}`, `{"cfjs1_ctl":"hello","version":02}`, `{"ack":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		v := HelloVersion(line)
		require.Contains(t, []int{1, 2}, v)
		if v == 2 {
			trimmed := bytes.TrimRight(line, "\r\n")
			require.True(t, bytes.HasPrefix(trimmed, []byte(`{"cfjs1_ctl":"hello","version":`)), "%q", line)
			require.Equal(t, Hello, ParseControl(trimmed))
		}
	})
}
