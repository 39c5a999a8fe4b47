package journalfile

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Cursor locates an entry the way journald's cursors do. Parsed cursors may
// lack parts; an Entry's cursor has them all.
type Cursor struct {
	SeqnumID    ID128
	Seqnum      uint64
	BootID      ID128
	Monotonic   uint64
	Realtime    uint64
	XorHash     uint64
	HasSeqnum   bool // s= and i= were both present
	HasBootID   bool // b= and m= were both present
	HasRealtime bool
	HasXorHash  bool
}

// Cursor is the entry's cursor.
func (e *Entry) Cursor() Cursor {
	return Cursor{
		SeqnumID: e.SeqnumID, Seqnum: e.Seqnum, BootID: e.BootID, Monotonic: e.Monotonic,
		Realtime: e.Realtime, XorHash: e.XorHash,
		HasSeqnum: true, HasBootID: true, HasRealtime: true, HasXorHash: true,
	}
}

// AppendCursor appends the entry's cursor string, exactly as journalctl
// prints it in __CURSOR, to b.
func (e *Entry) AppendCursor(b []byte) []byte {
	b = append(b, "s="...)
	b = hex.AppendEncode(b, e.SeqnumID[:])
	b = append(b, ";i="...)
	b = strconv.AppendUint(b, e.Seqnum, 16)
	b = append(b, ";b="...)
	b = hex.AppendEncode(b, e.BootID[:])
	b = append(b, ";m="...)
	b = strconv.AppendUint(b, e.Monotonic, 16)
	b = append(b, ";t="...)
	b = strconv.AppendUint(b, e.Realtime, 16)
	b = append(b, ";x="...)
	b = strconv.AppendUint(b, e.XorHash, 16)
	return b
}

// String is the cursor in journald's syntax, with the parts it has.
func (c Cursor) String() string {
	var parts []string
	if c.HasSeqnum {
		parts = append(parts, "s="+c.SeqnumID.String(), "i="+strconv.FormatUint(c.Seqnum, 16))
	}
	if c.HasBootID {
		parts = append(parts, "b="+c.BootID.String(), "m="+strconv.FormatUint(c.Monotonic, 16))
	}
	if c.HasRealtime {
		parts = append(parts, "t="+strconv.FormatUint(c.Realtime, 16))
	}
	if c.HasXorHash {
		parts = append(parts, "x="+strconv.FormatUint(c.XorHash, 16))
	}
	return strings.Join(parts, ";")
}

// ParseCursor reads a cursor string as journald writes it:
// "s=…;i=…;b=…;m=…;t=…;x=…", hex numbers, parts in any order. Unknown
// parts are ignored, as journald does; a cursor must locate an entry by
// seqnum or by realtime.
func ParseCursor(s string) (Cursor, error) {
	var c Cursor
	var hasS, hasI, hasB, hasM bool
	for part := range strings.SplitSeq(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || len(k) != 1 {
			return c, fmt.Errorf("cursor %q: malformed part %q", s, part)
		}
		var err error
		switch k {
		case "s":
			err, hasS = parseID(v, &c.SeqnumID), true
		case "b":
			err, hasB = parseID(v, &c.BootID), true
		case "i":
			c.Seqnum, err = strconv.ParseUint(v, 16, 64)
			hasI = true
		case "m":
			c.Monotonic, err = strconv.ParseUint(v, 16, 64)
			hasM = true
		case "t":
			c.Realtime, err = strconv.ParseUint(v, 16, 64)
			c.HasRealtime = true
		case "x":
			c.XorHash, err = strconv.ParseUint(v, 16, 64)
			c.HasXorHash = true
		}
		if err != nil {
			return c, fmt.Errorf("cursor %q: part %q: %w", s, part, err)
		}
	}
	c.HasSeqnum = hasS && hasI
	c.HasBootID = hasB && hasM
	if !c.HasSeqnum && !c.HasRealtime {
		return c, fmt.Errorf("cursor %q has neither a seqnum (s=, i=) nor a realtime (t=)", s)
	}
	return c, nil
}

func parseID(v string, id *ID128) error {
	if len(v) != 32 {
		return fmt.Errorf("id of %d hex digits, want 32", len(v))
	}
	_, err := hex.Decode(id[:], []byte(v))
	return err
}

// CursorString is AppendCursor as a string.
func (e *Entry) CursorString() string { return string(e.AppendCursor(make([]byte, 0, 160))) }
