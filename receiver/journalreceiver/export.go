package journalreceiver

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// The journal export format (systemd's "Journal Export Format"): an entry
// is a sequence of fields and ends with an empty line. A field is either
// "NAME=value\n" (value without newline), or, for any value, "NAME\n"
// followed by the value's length as a 64-bit little-endian integer, the
// value's bytes and "\n". journalctl uses the second, binary-safe form for
// values that are not printable UTF-8.

// maxFieldNameLen bounds field names; journald itself allows 64 bytes, the
// address fields ("__REALTIME_TIMESTAMP") are shorter still.
const maxFieldNameLen = 256

// ExportError is a malformed export stream. The stream cannot be resynced
// after one: the reader is done.
type ExportError struct {
	Reason string // short, stable: the value of the parse_errors "reason" attribute
	Detail string
}

func (e *ExportError) Error() string {
	return "journal export format: " + e.Detail
}

func exportErr(reason, format string, args ...any) error {
	return &ExportError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// span locates a field's name and value in an Entry's buffer.
type span struct{ ns, ne, vs, ve int32 }

// Entry is one journal entry: its fields in the order journalctl wrote them,
// all in one string, so that names and values are substrings of it and
// turning them into attributes copies nothing. Fields may repeat; values may
// hold any bytes.
type Entry struct {
	buf    string
	fields []span
	// Truncated is set when a value was cut, or fields dropped, to keep the
	// entry within the reader's MaxEntryBytes / MaxFields.
	Truncated bool
}

// Len is the number of fields.
func (e *Entry) Len() int { return len(e.fields) }

// Field returns the i-th field's name and value.
func (e *Entry) Field(i int) (name, value string) {
	f := e.fields[i]
	return e.buf[f.ns:f.ne], e.buf[f.vs:f.ve]
}

// Get returns the value of the first field named name.
func (e *Entry) Get(name string) (string, bool) {
	for _, f := range e.fields {
		if e.buf[f.ns:f.ne] == name {
			return e.buf[f.vs:f.ve], true
		}
	}
	return "", false
}

// Size is the number of bytes the entry holds (names and values).
func (e *Entry) Size() int { return len(e.buf) }

// ExportLimits bound what one entry may hold; beyond them values are cut and
// fields dropped (Entry.Truncated), never buffered without bound.
type ExportLimits struct {
	MaxEntryBytes int // names + values
	MaxFields     int
}

// ExportReader decodes the export format from a stream.
type ExportReader struct {
	r      *bufio.Reader
	limits ExportLimits
	lenBuf [8]byte // a binary value's length; here so that it does not escape per field
	// scratch collects the entry being decoded; it is copied into an exactly
	// sized buffer once complete, so a long-lived Entry never pins it.
	scratch []byte
	spans   []span
}

// NewExportReader reads entries from r within limits.
func NewExportReader(r io.Reader, limits ExportLimits) *ExportReader {
	if limits.MaxEntryBytes <= 0 || limits.MaxEntryBytes > math.MaxInt32 {
		limits.MaxEntryBytes = math.MaxInt32
	}
	if limits.MaxFields <= 0 {
		limits.MaxFields = math.MaxInt32
	}
	return &ExportReader{r: bufio.NewReaderSize(r, 64<<10), limits: limits}
}

// Next decodes the next entry into a new Entry. It returns io.EOF at the end
// of the stream between entries, io.ErrUnexpectedEOF if the stream ends
// inside an entry, and an *ExportError on malformed input.
func (d *ExportReader) Next() (*Entry, error) {
	d.scratch = d.scratch[:0]
	d.spans = d.spans[:0]
	truncated := false
	for {
		line, err := d.r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				if len(line) == 0 && len(d.spans) == 0 {
					return nil, io.EOF
				}
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) == 1 && err == nil { // the empty line that ends the entry
			if len(d.spans) == 0 {
				return nil, exportErr("empty_entry", "empty line where an entry's first field was expected")
			}
			return d.finish(truncated), nil
		}
		// The name ends at '=' (text form) or at the newline (binary form).
		eq := bytes.IndexByte(line, '=')
		binaryForm := eq < 0
		nameEnd := eq
		if binaryForm {
			if err != nil { // no newline within the buffer: no valid name is that long
				return nil, exportErr("bad_field_name", "field name longer than %d bytes", maxFieldNameLen)
			}
			nameEnd = len(line) - 1
		}
		name := line[:nameEnd]
		if reason, ok := checkFieldName(name); !ok {
			return nil, exportErr("bad_field_name", "field name %q: %s", truncateForError(name), reason)
		}
		keep := len(d.spans) < d.limits.MaxFields
		budget := d.limits.MaxEntryBytes - len(d.scratch) - len(name)
		if budget < 0 {
			keep = false
		}
		if !keep {
			truncated = true
		}
		s := span{}
		if keep {
			s.ns = int32(len(d.scratch)) //nolint:gosec // G115: len(scratch) <= MaxEntryBytes <= MaxInt32 (NewExportReader)
			d.scratch = append(d.scratch, name...)
			s.ne = int32(len(d.scratch)) //nolint:gosec // G115: len(scratch) <= MaxEntryBytes <= MaxInt32 (NewExportReader)
			s.vs = s.ne
		}
		var cut bool
		if binaryForm {
			cut, err = d.readBinaryValue(keep, budget)
		} else {
			cut, err = d.readTextValue(line[eq+1:], err != nil, keep, budget)
		}
		if err != nil {
			return nil, err
		}
		truncated = truncated || cut
		if keep {
			s.ve = int32(len(d.scratch)) //nolint:gosec // G115: len(scratch) <= MaxEntryBytes <= MaxInt32 (NewExportReader)
			d.spans = append(d.spans, s)
		}
	}
}

// readTextValue appends the value of a "NAME=value\n" line, of which rest is
// what follows '='; more is set when the line continues past the buffer.
func (d *ExportReader) readTextValue(rest []byte, more, keep bool, budget int) (cut bool, err error) {
	for {
		chunk := rest
		if !more {
			chunk = rest[:len(rest)-1] // drop the newline
		}
		if keep {
			n := min(len(chunk), budget)
			d.scratch = append(d.scratch, chunk[:n]...)
			budget -= n
			cut = cut || n < len(chunk)
		}
		if !more {
			return cut, nil
		}
		rest, err = d.r.ReadSlice('\n')
		switch {
		case err == nil:
			more = false
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return cut, io.ErrUnexpectedEOF
		default:
			return cut, err
		}
	}
}

// readBinaryValue reads the length and bytes of a binary-form value.
func (d *ExportReader) readBinaryValue(keep bool, budget int) (cut bool, err error) {
	if _, err := io.ReadFull(d.r, d.lenBuf[:]); err != nil {
		return false, unexpected(err)
	}
	size := binary.LittleEndian.Uint64(d.lenBuf[:])
	if size > math.MaxInt64-1 {
		return false, exportErr("bad_binary_length", "binary field length %d is impossible", size)
	}
	n := int64(size)
	if keep {
		take := min(n, int64(budget))
		start := len(d.scratch)
		d.scratch = slices.Grow(d.scratch, int(take))[:start+int(take)]
		if _, err := io.ReadFull(d.r, d.scratch[start:]); err != nil {
			return false, unexpected(err)
		}
		n -= take
		cut = n > 0
	}
	// Skip what does not fit, in bounded steps: the length came from the
	// stream and may be anything.
	for n > 0 {
		step := int(min(n, 1<<20))
		k, err := d.r.Discard(step)
		n -= int64(k)
		if err != nil {
			return false, unexpected(err)
		}
	}
	b, err := d.r.ReadByte()
	if err != nil {
		return false, unexpected(err)
	}
	if b != '\n' {
		return false, exportErr("bad_binary_terminator", "binary field value not followed by a newline (got byte %#x)", b)
	}
	return cut, nil
}

func (d *ExportReader) finish(truncated bool) *Entry {
	e := &Entry{
		buf:       string(d.scratch),
		fields:    slices.Clone(d.spans),
		Truncated: truncated,
	}
	// Do not keep one huge entry's scratch space around for good.
	if cap(d.scratch) > 1<<20 {
		d.scratch = nil
	}
	return e
}

// checkFieldName accepts what journald writes: letters, digits and '_'
// (address fields start with "__"). Lower case is tolerated: journald
// refuses it on input, but other writers of the format may not.
func checkFieldName(name []byte) (string, bool) {
	if len(name) == 0 {
		return "empty", false
	}
	if len(name) > maxFieldNameLen {
		return fmt.Sprintf("longer than %d bytes", maxFieldNameLen), false
	}
	for _, c := range name {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Sprintf("invalid byte %#x (allowed: A-Z, a-z, 0-9, _)", c), false
		}
	}
	return "", true
}

func truncateForError(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
