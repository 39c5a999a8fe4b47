package journalfile

import (
	"io"
	"testing"
)

// FuzzOpen: whatever the bytes, reading a file ends (in an error or
// io.EOF) without panicking, looping or allocating past the limits. Seeds
// (testdata/fuzz/FuzzOpen) are real files from systemd-journal-remote, cut
// down by minimalCopy.
func FuzzOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		jf, err := openBytes(data, Options{MaxEntryBytes: 1 << 20, MaxFields: 1024})
		if err != nil {
			return
		}
		var e Entry
		var last Cursor
		// Next consumes one entry per call, errors included, until io.EOF
		// or a sticky chain error: n_entries (bounded by the arena) + 1
		// calls at most.
		limit := jf.hdr.NEntries + 1
		for i := uint64(0); i < limit; i++ {
			err := jf.Next(&e)
			if err == io.EOF {
				break
			}
			if err != nil {
				if jf.err != nil {
					break
				}
				continue
			}
			_ = e.CursorString()
			for _, fl := range e.Fields {
				_, _, _ = SplitField(fl)
			}
			last = e.Cursor()
		}
		if last.HasSeqnum {
			_, _ = jf.Seek(last)
			_ = jf.Next(&e)
		}
		_ = jf.Refresh()
	})
}
