package framing

import (
	"bytes"
	"errors"
	"io"
)

// Frame is one message taken from a stream.
type Frame struct {
	// Bytes is the message without its delimiter or length header. It points
	// into the Decoder's buffer: valid only until the next call to Next.
	Bytes []byte
	// Truncated says the message was longer than the maximum (or cut short
	// by the end of the stream): Bytes holds its beginning, the rest was
	// read and discarded.
	Truncated bool
	// Malformed says an octet-counted stream had no valid "LEN SP" header
	// here; Bytes is the text up to the next newline, from which the
	// decoder carries on.
	Malformed bool
}

// DefaultMaxFrame is the maximum frame size used when none is given.
const DefaultMaxFrame = 64 * 1024

// maxHeader is the longest octet-counting header accepted: ten digits and
// the space (a length of up to 9,999,999,999 bytes; the frame itself is then
// truncated to the maximum).
const maxHeader = 11

// initialBufferSize is what a decoder starts with; it grows (up to about
// the maximum frame size) only when a frame needs the room.
const initialBufferSize = 64 * 1024

// ErrNoProgress is returned when the reader keeps returning no data and no
// error.
var ErrNoProgress = errors.New("framing: reader returned no data and no error 100 times")

// Decoder splits a stream into frames. It is not safe for concurrent use.
type Decoder struct {
	r     io.Reader
	mode  Mode
	max   int
	limit int // largest buffer: max frame plus room for a delimiter or header

	buf        []byte
	start, end int // unread bytes are buf[start:end]
	// scanned is how many unread bytes (from start) are known to hold no
	// '\n'. The search for the end of a line resumes there, so a line
	// arriving in many small reads costs one look per byte, not one search
	// of the whole line per read.
	scanned int

	skipLine  bool  // discarding up to the next '\n' (after a truncated line)
	skipBytes int64 // discarding the rest of a truncated octet-counted frame
	eof       bool

	// OnRead, if set, is called just before Next reads from the underlying
	// reader, that is when every complete frame already received has been
	// returned. A caller that batches frames flushes its batch there, so a
	// batch never waits on a quiet writer.
	OnRead func()
}

// NewDecoder returns a Decoder reading r in the given mode. maxFrame bounds
// the returned frames (DefaultMaxFrame if <= 0); the decoder's memory stays
// below maxFrame plus a few bytes.
func NewDecoder(r io.Reader, mode Mode, maxFrame int) *Decoder {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	limit := maxFrame + maxHeader + 1
	size := min(limit, initialBufferSize)
	return &Decoder{r: r, mode: mode, max: maxFrame, limit: limit, buf: make([]byte, size)}
}

// Reset makes the decoder read a new stream, keeping its buffer and mode
// setting (an Auto decoder decides again).
func (d *Decoder) Reset(r io.Reader, mode Mode) {
	d.r, d.mode = r, mode
	d.start, d.end, d.scanned = 0, 0, 0
	d.skipLine, d.skipBytes, d.eof = false, 0, false
}

// Mode returns the decoder's mode; for Auto, the mode chosen once the first
// byte has arrived.
func (d *Decoder) Mode() Mode { return d.mode }

// Next returns the next frame. At the end of the stream it returns io.EOF
// (after a last unterminated line, if any). Other read errors are returned
// as they come, with the decoder's state intact, so a caller may call Next
// again after, say, a read deadline.
func (d *Decoder) Next() (Frame, error) {
	for {
		if f, ok := d.frame(); ok {
			return f, nil
		}
		if d.eof {
			if f, ok := d.tail(); ok {
				return f, nil
			}
			return Frame{}, io.EOF
		}
		if err := d.fill(); err != nil {
			if err == io.EOF {
				d.eof = true
				continue
			}
			return Frame{}, err
		}
	}
}

// frame returns a complete frame from the buffer, if there is one, after
// consuming whatever is being discarded.
func (d *Decoder) frame() (Frame, bool) {
	if d.skipBytes > 0 {
		n := min(d.skipBytes, int64(d.end-d.start))
		d.consume(int(n))
		d.skipBytes -= n
		if d.skipBytes > 0 {
			return Frame{}, false
		}
	}
	if d.skipLine {
		i := bytes.IndexByte(d.buf[d.start:d.end], '\n')
		if i < 0 {
			d.consume(d.end - d.start)
			return Frame{}, false
		}
		d.consume(i + 1)
		d.skipLine = false
	}
	if d.start == d.end {
		return Frame{}, false
	}
	if d.mode == Auto {
		if c := d.buf[d.start]; c >= '1' && c <= '9' {
			d.mode = OctetCounting
		} else {
			d.mode = Newline
		}
	}
	if d.mode == OctetCounting {
		return d.octetFrame()
	}
	return d.lineFrame(false)
}

// consume drops n bytes from the front of the unread data.
func (d *Decoder) consume(n int) {
	d.start += n
	d.scanned = 0
}

// lineFrame returns the line at the start of the buffer.
func (d *Decoder) lineFrame(malformed bool) (Frame, bool) {
	data := d.buf[d.start:d.end]
	i := bytes.IndexByte(data[d.scanned:], '\n')
	if i < 0 {
		d.scanned = len(data)
		// No newline yet. Once more than max(+CR) bytes are waiting the
		// line is too long whatever follows: hand out its beginning and
		// discard the rest up to the newline (none of the bytes here is
		// one).
		if len(data) > d.max+1 {
			d.consume(len(data))
			d.skipLine = true
			return Frame{Bytes: data[:d.max:d.max], Truncated: true, Malformed: malformed}, true
		}
		return Frame{}, false
	}
	i += d.scanned
	d.consume(i + 1)
	return lineBytes(data[:i], d.max, malformed), true
}

// lineBytes makes the frame of a line without its '\n': a '\r' before
// the newline goes too, and a line longer than maxLen is cut to maxLen.
func lineBytes(line []byte, maxLen int, malformed bool) Frame {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > maxLen {
		return Frame{Bytes: line[:maxLen:maxLen], Truncated: true, Malformed: malformed}
	}
	return Frame{Bytes: line[:len(line):len(line)], Malformed: malformed}
}

// headerState says what the start of an octet-counted frame holds.
type headerState uint8

const (
	headerIncomplete headerState = iota // only digits so far: wait for more
	headerValid                         // "LEN SP" with LEN in 1..maxHeader-1 digits, no leading 0
	headerMalformed                     // anything else: not a frame header
)

// octetHeader reads the "LEN SP" header at the start of data. For a valid
// header it returns the frame length and the header size with its space.
// At most maxHeader bytes are looked at, so reading a header a byte at a
// time stays cheap.
func octetHeader(data []byte) (n int64, size int, st headerState) {
	for h := 0; h < len(data) && h < maxHeader; h++ {
		c := data[h]
		if c == ' ' && h > 0 {
			return n, h + 1, headerValid
		}
		if c < '0' || c > '9' || (h == 0 && c == '0') {
			return 0, 0, headerMalformed
		}
		n = n*10 + int64(c-'0')
	}
	if len(data) >= maxHeader {
		return 0, 0, headerMalformed // too many digits
	}
	return 0, 0, headerIncomplete
}

// octetFrame returns the octet-counted frame at the start of the buffer.
func (d *Decoder) octetFrame() (Frame, bool) {
	data := d.buf[d.start:d.end]
	n, h, st := octetHeader(data)
	switch st {
	case headerIncomplete:
		return Frame{}, false
	case headerMalformed:
		return d.lineFrame(true)
	}
	body := data[h:]
	if n <= int64(d.max) {
		if int64(len(body)) < n {
			return Frame{}, false
		}
		d.consume(h + int(n))
		return Frame{Bytes: body[:n:n]}, true
	}
	if len(body) < d.max {
		return Frame{}, false
	}
	d.consume(h + d.max)
	d.skipBytes = n - int64(d.max)
	return Frame{Bytes: body[:d.max:d.max], Truncated: true}, true
}

// tail returns what is left at the end of the stream: an unterminated line,
// or an octet-counted frame cut short (reported as truncated).
func (d *Decoder) tail() (Frame, bool) {
	if d.skipLine || d.skipBytes > 0 || d.start == d.end {
		d.consume(d.end - d.start)
		return Frame{}, false
	}
	data := d.buf[d.start:d.end]
	d.consume(len(data))
	if d.mode == OctetCounting {
		_, h, st := octetHeader(data)
		if st == headerValid && h < len(data) {
			body := data[h:]
			return Frame{Bytes: body[:min(len(body), d.max)], Truncated: true}, true
		}
		return lineBytes(data, d.max, true), true
	}
	return lineBytes(data, d.max, false), true
}

// fill reads more data, first making room: moving unread bytes to the
// front, and growing the buffer (never beyond limit) when it is full.
func (d *Decoder) fill() error {
	if d.start == d.end {
		d.start, d.end = 0, 0
	}
	if d.end == len(d.buf) {
		if d.start > 0 {
			d.end = copy(d.buf, d.buf[d.start:d.end])
			d.start = 0
		} else if len(d.buf) < d.limit {
			nb := make([]byte, min(2*len(d.buf), d.limit))
			d.end = copy(nb, d.buf[d.start:d.end])
			d.start = 0
			d.buf = nb
		}
	}
	if d.OnRead != nil {
		d.OnRead()
	}
	for range 100 {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		if n > 0 {
			// Data first; a non-EOF error will come again on the next read.
			d.eof = err == io.EOF
			return nil
		}
		if err != nil {
			return err
		}
	}
	return ErrNoProgress
}

// Buffered returns the number of bytes read from the stream and not yet
// returned or discarded.
func (d *Decoder) Buffered() int { return d.end - d.start }
