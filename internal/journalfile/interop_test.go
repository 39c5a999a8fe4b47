//go:build interop

package journalfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDifferentialJournalctl: every entry and field the reader returns is
// what journalctl exports from the same file, in compact and regular
// files.
func TestDifferentialJournalctl(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		compact bool
	}{
		{"compact", nil, true},
		{"regular", []string{"SYSTEMD_JOURNAL_COMPACT=0"}, false},
		{"regular-unkeyed", []string{"SYSTEMD_JOURNAL_COMPACT=0", "SYSTEMD_JOURNAL_KEYED_HASH=0"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "t.journal")
			writeJournal(t, p, tc.env, variedEntries(0)...)
			hdr := journalHeader(t, p)
			require.Equal(t, tc.compact, strings.Contains(hdr, "COMPACT"), hdr)
			require.Contains(t, hdr, "COMPRESSED-ZSTD")

			f, err := Open(p, Options{})
			require.NoError(t, err)
			defer f.Close()
			require.NotZero(t, compressedFields(t, f)[objCompressedZSTD], "large values must be compressed for the test to mean something")
			require.Equal(t, tc.compact, f.Header().Compact())
			got := readAll(t, f)
			requireSameAsExport(t, got, journalctlExport(t, p))
		})
	}
}

// TestSeekMatchesAfterCursor: seeking after an entry's cursor gives what
// journalctl --after-cursor gives.
func TestSeekMatchesAfterCursor(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.journal")
	writeJournal(t, p, nil, variedEntries(0)...)
	f, err := Open(p, Options{})
	require.NoError(t, err)
	defer f.Close()
	all := readAll(t, f)
	for _, i := range []int{0, 3, len(all) - 2, len(all) - 1} {
		cur := all[i].CursorString()
		c, err := ParseCursor(cur)
		require.NoError(t, err)
		found, err := f.Seek(c)
		require.NoError(t, err)
		require.True(t, found)
		got := readAll(t, f)
		want := journalctlExport(t, p, "--after-cursor="+cur)
		requireSameAsExport(t, got, want)
	}
}

// TestWriteGolden rewrites testdata's golden files and fuzz seed when
// JOURNALFILE_WRITE_GOLDEN is set; the untagged tests read them.
func TestWriteGolden(t *testing.T) {
	if os.Getenv("JOURNALFILE_WRITE_GOLDEN") == "" {
		t.Skip("JOURNALFILE_WRITE_GOLDEN not set")
	}
	writeGolden(t)
}
