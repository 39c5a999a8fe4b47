package framing

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// errPause is a transient read error, as a read deadline gives: the
// decoder must keep its state and carry on when Next is called again.
var errPause = errors.New("pause")

// chunkReader returns its data in the chunk sizes of a repeating pattern.
// A 0 in the pattern is a read returning nothing and no error, 255 is a
// read failing with errPause; each is followed by at least one byte, so
// the reader always makes progress. The last chunk comes with io.EOF.
type chunkReader struct {
	data    []byte
	pattern []byte
	next    int
	stalled bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	size := 1
	if len(r.pattern) > 0 && !r.stalled {
		c := r.pattern[r.next%len(r.pattern)]
		r.next++
		switch c {
		case 0:
			r.stalled = true
			return 0, nil
		case 255:
			r.stalled = true
			return 0, errPause
		}
		size = int(c)
	}
	r.stalled = false
	n := copy(p, r.data[:min(size, len(r.data))])
	r.data = r.data[n:]
	if len(r.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// decodeEvents decodes r to the end and lists every frame and the final
// error; errPause is skipped over, Next being called again after it.
func decodeEvents(r io.Reader, mode Mode, maxFrame, inputLen int) ([]got, error) {
	d := NewDecoder(r, mode, maxFrame)
	var out []got
	// Every read and every frame takes at least one byte or one pattern
	// step, so this bound is never reached by a decoder that progresses.
	for range 4*inputLen + 16 {
		f, err := d.Next()
		if errors.Is(err, errPause) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, got{string(f.Bytes), f.Truncated, f.Malformed})
	}
	return out, errors.New("decoder made no progress")
}

// FuzzDecoderChunkInvariance is a differential check of the decoder against
// itself: however a stream is cut into reads (down to a byte each, with
// empty reads and transient errors between), the frames and the final
// error are those of reading it whole.
func FuzzDecoderChunkInvariance(f *testing.F) {
	long := strings.Repeat("x", 300)
	digits := strings.Repeat("9", 12)
	seeds := []struct {
		in      string
		pattern []byte
		mode    uint8
		max     uint8
	}{
		{"a\nbb\r\n\nccc", []byte{1}, 0, 4},
		{long + "\nafter\n" + long, []byte{1, 7, 0, 3}, 0, 16},
		{long + "\r\n" + long + "\r", []byte{2, 255, 1}, 0, 32},
		{"xxxx\r\nxxxxx\r\nxxxxxx\r\n", []byte{1}, 0, 4},
		{"\r\r\r\n\r\n\r", []byte{1, 0}, 0, 1},
		{"5 hello3 a\nb11 <13>x\ny\r\nzz", []byte{1, 2, 3}, 1, 100},
		{"12 hello world!2 ok", []byte{1}, 1, 5},
		{"<13>not counted\n3 abc012345678901 x\n99999999999 y\n4 good", []byte{1, 255}, 1, 8},
		{digits + " " + long + "\n2 ok", []byte{3}, 1, 8},
		{"9999999999 " + long, []byte{1, 0, 17}, 1, 20},
		{"0 x\n 1 y\n1  \n10 ", []byte{1}, 1, 8},
		{"<13>tail without newline " + long, []byte{5}, 1, 64},
		{"2 ab1 c", []byte{1}, 2, 100},
		{"<13>2 ab\n1 c\n", []byte{1}, 2, 100},
		{"300 " + long + long, []byte{1, 250}, 2, 50},
		{"\x00\n\xff\n\n\n", []byte{1, 0, 255}, 2, 1},
	}
	for _, s := range seeds {
		f.Add([]byte(s.in), s.pattern, s.mode, s.max)
	}
	f.Fuzz(func(t *testing.T, in, pattern []byte, mode uint8, maxFrame uint8) {
		m := Mode(mode % 3)
		limit := int(maxFrame) + 1
		whole, wholeErr := decodeEvents(bytes.NewReader(in), m, limit, len(in)+len(pattern))
		chunked, chunkedErr := decodeEvents(&chunkReader{data: in, pattern: pattern}, m, limit, len(in)+len(pattern))
		if !errors.Is(wholeErr, io.EOF) || !errors.Is(chunkedErr, io.EOF) {
			t.Fatalf("ended with %v whole and %v in chunks, want io.EOF", wholeErr, chunkedErr)
		}
		if len(whole) != len(chunked) {
			t.Fatalf("%d frames whole, %d in chunks %v:\n%+v\n%+v", len(whole), len(chunked), pattern, whole, chunked)
		}
		for i := range whole {
			if whole[i] != chunked[i] {
				t.Fatalf("frame %d: %+v whole, %+v in chunks %v", i, whole[i], chunked[i], pattern)
			}
			if len(whole[i].s) > limit {
				t.Fatalf("frame %d holds %d bytes, max %d", i, len(whole[i].s), limit)
			}
		}
	})
}
