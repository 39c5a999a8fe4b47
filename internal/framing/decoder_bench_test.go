package framing

import (
	"bytes"
	"io"
	"testing"
)

// benchLine is an ordinary ~180-byte RFC 3164 line, the receivers' usual
// input.
const benchLine = "<30>Nov 22 04:00:00 nginx[4242]: 10.0.0.1 - - \"GET /api/v1/items?id=12345 HTTP/1.1\" 200 1532 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.012 uct=0.001 uht=0.011 urt=0.011 req=abcdef"

// loopReader serves the same stream over and over in reads of up to 64
// KiB, as a busy socket does.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p[:min(len(p), 64*1024)], r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// BenchmarkDecoder splits ordinary lines arriving in large reads; ns/op
// is per frame.
func BenchmarkDecoder(b *testing.B) {
	b.Run("newline", func(b *testing.B) {
		benchDecoder(b, Newline, append([]byte(benchLine), '\n'))
	})
	b.Run("octet_counting", func(b *testing.B) {
		benchDecoder(b, OctetCounting, octetFrame(len(benchLine), []byte(benchLine)))
	})
}

func benchDecoder(b *testing.B, mode Mode, frame []byte) {
	r := &loopReader{data: bytes.Repeat(frame, 1000)}
	d := NewDecoder(r, mode, DefaultMaxFrame)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := d.Next()
		if err != nil || len(f.Bytes) != len(benchLine) {
			b.Fatalf("frame of %d bytes, error %v", len(f.Bytes), err)
		}
	}
}

// BenchmarkLineOf1MiBByteAtATime is a 1 MiB line (maximum 1 MiB) arriving
// one byte per read: ns/op is the CPU cost of the whole line.
func BenchmarkLineOf1MiBByteAtATime(b *testing.B) {
	in := append(repeatByte('x', mib), '\n')
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		d := NewDecoder(&byteAtATime{data: in}, Newline, mib)
		f, err := d.Next()
		if err != nil || len(f.Bytes) != mib {
			b.Fatalf("frame of %d bytes, error %v", len(f.Bytes), err)
		}
		if _, err := d.Next(); err != io.EOF {
			b.Fatalf("got %v after the line, want EOF", err)
		}
	}
}
