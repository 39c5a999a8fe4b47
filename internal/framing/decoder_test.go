package framing

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type got struct {
	s         string
	truncated bool
	malformed bool
}

func decodeAll(t *testing.T, r io.Reader, mode Mode, maxFrame int) []got {
	t.Helper()
	d := NewDecoder(r, mode, maxFrame)
	var out []got
	for range 100000 {
		f, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		require.LessOrEqual(t, len(f.Bytes), d.max)
		out = append(out, got{string(f.Bytes), f.Truncated, f.Malformed})
	}
	t.Fatal("decoder did not reach EOF")
	return nil
}

func TestNewline(t *testing.T) {
	in := "a\nbb\r\n\nccc"
	want := []got{{s: "a"}, {s: "bb"}, {s: ""}, {s: "ccc"}}
	assert.Equal(t, want, decodeAll(t, strings.NewReader(in), Newline, 10))
	// One byte at a time gives the same frames.
	assert.Equal(t, want, decodeAll(t, iotest.OneByteReader(strings.NewReader(in)), Newline, 10))
}

func TestNewlineTruncates(t *testing.T) {
	long := strings.Repeat("x", 100)
	in := "12345\n123456\n" + long + "\nafter\n" + long
	want := []got{
		{s: "12345"},
		{s: "12345", truncated: true},
		{s: "xxxxx", truncated: true},
		{s: "after"},
		{s: "xxxxx", truncated: true},
	}
	assert.Equal(t, want, decodeAll(t, strings.NewReader(in), Newline, 5))
	assert.Equal(t, want, decodeAll(t, iotest.OneByteReader(strings.NewReader(in)), Newline, 5))
}

func TestNewlineBoundedMemory(t *testing.T) {
	// A 10 MiB line without a newline never grows the buffer past the limit.
	r := io.MultiReader(io.LimitReader(repeatReader('y'), 10<<20), strings.NewReader("\nok\n"))
	d := NewDecoder(r, Newline, 1000)
	f, err := d.Next()
	require.NoError(t, err)
	assert.True(t, f.Truncated)
	assert.Len(t, f.Bytes, 1000)
	f, err = d.Next()
	require.NoError(t, err)
	assert.Equal(t, "ok", string(f.Bytes))
	assert.LessOrEqual(t, cap(d.buf), 1000+maxHeader+1)
	_, err = d.Next()
	assert.ErrorIs(t, err, io.EOF)
}

type repeatReader byte

func (c repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

func TestOctetCounting(t *testing.T) {
	in := "5 hello3 a\nb11 <13>x\ny\r\nzz"
	want := []got{{s: "hello"}, {s: "a\nb"}, {s: "<13>x\ny\r\nzz"}}
	assert.Equal(t, want, decodeAll(t, strings.NewReader(in), OctetCounting, 100))
	assert.Equal(t, want, decodeAll(t, iotest.OneByteReader(strings.NewReader(in)), OctetCounting, 100))
}

func TestOctetCountingTruncatesAndResyncs(t *testing.T) {
	in := "12 hello world!2 ok"
	want := []got{{s: "hello", truncated: true}, {s: "ok"}}
	assert.Equal(t, want, decodeAll(t, strings.NewReader(in), OctetCounting, 5))
	assert.Equal(t, want, decodeAll(t, iotest.OneByteReader(strings.NewReader(in)), OctetCounting, 5))
}

func TestOctetCountingMalformed(t *testing.T) {
	in := "<13>not counted\n3 abc012345678901 x\n99999999999 y\n4 good"
	want := []got{
		{s: "<13>not counted", malformed: true},
		{s: "abc"},
		{s: "012345678901 x", malformed: true},
		{s: "99999999999 y", malformed: true},
		{s: "good"},
	}
	assert.Equal(t, want, decodeAll(t, strings.NewReader(in), OctetCounting, 100))
}

func TestOctetCountingCutShort(t *testing.T) {
	assert.Equal(t, []got{{s: "ab", truncated: true}}, decodeAll(t, strings.NewReader("10 ab"), OctetCounting, 100))
	assert.Equal(t, []got{{s: "12", malformed: true}}, decodeAll(t, strings.NewReader("12"), OctetCounting, 100))
}

func TestOctetCountingMalformedTail(t *testing.T) {
	// A stream ending in text without a valid header gives that text whole,
	// as malformed, like a malformed line does; only a valid "LEN SP"
	// header cut short gives its body as truncated.
	want := []got{{s: "<13>not counted", malformed: true}}
	assert.Equal(t, want, decodeAll(t, strings.NewReader("<13>not counted"), OctetCounting, 100))
	want = []got{{s: "abc"}, {s: "07 x", malformed: true}}
	assert.Equal(t, want, decodeAll(t, strings.NewReader("3 abc07 x"), OctetCounting, 100))
}

func TestAuto(t *testing.T) {
	assert.Equal(t, []got{{s: "ab"}, {s: "c"}}, decodeAll(t, strings.NewReader("2 ab1 c"), Auto, 100))
	assert.Equal(t, []got{{s: "<13>2 ab"}, {s: "1 c"}}, decodeAll(t, strings.NewReader("<13>2 ab\n1 c\n"), Auto, 100))
}

func TestOnReadCalledWhenNoCompleteFrame(t *testing.T) {
	// Two reads: "a\nb\nc" then "d\n". OnRead must come before each read,
	// i.e. after "a" and "b" were both returned.
	r := io.MultiReader(strings.NewReader("a\nb\nc"), strings.NewReader("d\n"))
	d := NewDecoder(r, Newline, 100)
	var events []string
	d.OnRead = func() { events = append(events, "read") }
	for {
		f, err := d.Next()
		if err != nil {
			break
		}
		events = append(events, string(f.Bytes))
	}
	assert.Equal(t, []string{"read", "a", "b", "read", "cd", "read"}, events)
}

func TestReadErrorKeepsState(t *testing.T) {
	boom := errors.New("timeout")
	r := &scriptReader{steps: []step{{data: "par"}, {err: boom}, {data: "tial\n"}}}
	d := NewDecoder(r, Newline, 100)
	_, err := d.Next()
	require.ErrorIs(t, err, boom)
	f, err := d.Next()
	require.NoError(t, err)
	assert.Equal(t, "partial", string(f.Bytes))
}

type step struct {
	data string
	err  error
}

type scriptReader struct{ steps []step }

func (s *scriptReader) Read(p []byte) (int, error) {
	if len(s.steps) == 0 {
		return 0, io.EOF
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	return copy(p, st.data), st.err
}

func TestNoProgress(t *testing.T) {
	d := NewDecoder(zeroReader{}, Newline, 10)
	_, err := d.Next()
	assert.ErrorIs(t, err, ErrNoProgress)
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestModeText(t *testing.T) {
	var m Mode
	require.NoError(t, m.UnmarshalText([]byte("octet_counting")))
	assert.Equal(t, OctetCounting, m)
	err := m.UnmarshalText([]byte("lines"))
	assert.ErrorContains(t, err, `write one of "newline"`)
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte("a\nbb\r\n"), uint8(0), uint8(4))
	f.Add([]byte("5 hello3 abc"), uint8(1), uint8(4))
	f.Add([]byte("99999999999 x\n<13>y"), uint8(2), uint8(8))
	f.Add([]byte("12 hello world!2 ok"), uint8(1), uint8(5))
	f.Fuzz(func(t *testing.T, in []byte, mode uint8, maxFrame uint8) {
		m := Mode(mode % 3)
		limit := int(maxFrame)%64 + 1
		for _, r := range []io.Reader{bytes.NewReader(in), iotest.OneByteReader(bytes.NewReader(in))} {
			d := NewDecoder(r, m, limit)
			total := 0
			for i := 0; ; i++ {
				if i > len(in)+2 {
					t.Fatalf("more frames than input bytes")
				}
				fr, err := d.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(fr.Bytes) > limit {
					t.Fatalf("frame of %d bytes > max %d", len(fr.Bytes), limit)
				}
				total += len(fr.Bytes)
			}
			if total > len(in) {
				t.Fatalf("frames hold %d bytes, input %d", total, len(in))
			}
			_ = total
		}
		// Newline input without CR whose lines all fit: the frames joined
		// by newlines give back the input exactly.
		if m == Newline && !bytes.Contains(in, []byte{'\r'}) {
			fits := true
			for _, l := range bytes.Split(in, []byte{'\n'}) {
				fits = fits && len(l) <= limit
			}
			if fits {
				d := NewDecoder(bytes.NewReader(in), m, limit)
				var lines [][]byte
				for {
					fr, err := d.Next()
					if err != nil {
						break
					}
					lines = append(lines, bytes.Clone(fr.Bytes))
				}
				joined := bytes.Join(lines, []byte{'\n'})
				if len(in) > 0 && in[len(in)-1] == '\n' {
					joined = append(joined, '\n')
				}
				if !bytes.Equal(joined, in) {
					t.Fatalf("lines %q do not give back %q", lines, in)
				}
			}
		}
	})
}
