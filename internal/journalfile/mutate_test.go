package journalfile

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// readFuzzSeed reads a seed of testdata/fuzz/FuzzOpen.
func readFuzzSeed(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzOpen", name))
	require.NoError(t, err)
	lines := strings.Split(string(raw), "\n")
	require.GreaterOrEqual(t, len(lines), 2)
	q, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	require.NoError(t, err)
	return []byte(q)
}

// TestMutatedFiles is a deterministic, bounded cousin of FuzzOpen that runs
// with every test run: thousands of damaged variants of real files, each
// read to its end within a deadline, none panicking.
func TestMutatedFiles(t *testing.T) {
	for _, name := range []string{"compact", "regular"} {
		seed := readFuzzSeed(t, name)
		r := rand.New(rand.NewSource(int64(len(name))))
		for it := range 2000 {
			b := mutate(r, bytes.Clone(seed))
			done := make(chan error, 1)
			go func() {
				defer func() {
					if p := recover(); p != nil {
						done <- fmt.Errorf("panic: %v", p)
					}
				}()
				done <- readEverything(b)
			}()
			select {
			case err := <-done:
				require.NoError(t, err, "%s mutation %d", name, it)
			case <-time.After(30 * time.Second):
				t.Fatalf("%s mutation %d: reading did not end", name, it)
			}
		}
	}
}

// mutate damages b the way a fuzzer would: bytes set, bits flipped,
// interesting values, runs copied from elsewhere.
func mutate(r *rand.Rand, b []byte) []byte {
	for range 1 + r.Intn(8) {
		i := r.Intn(len(b))
		switch r.Intn(4) {
		case 0:
			b[i] = byte(r.Intn(256))
		case 1:
			b[i] ^= 1 << r.Intn(8)
		case 2:
			b[i] = []byte{0, 0xff, 1, 2, 3, 4, 6, 7, 8, 16, 0x80}[r.Intn(11)]
		case 3:
			j := r.Intn(len(b))
			copy(b[i:], b[j:min(len(b), j+r.Intn(64))])
		}
	}
	return b
}

// readEverything is FuzzOpen's body: an error from the file is fine, only a
// panic or a loop is not (the caller watches for those).
func readEverything(data []byte) error {
	jf, err := openBytes(data, Options{MaxEntryBytes: 1 << 20, MaxFields: 1024})
	if err != nil {
		return nil
	}
	var e Entry
	var last Cursor
	// Next consumes one entry per call, errors included, until io.EOF or a
	// sticky chain error: n_entries (bounded by the arena) + 1 calls.
	for range jf.hdr.NEntries + 1 {
		err := jf.Next(&e)
		if err == io.EOF || err != nil && jf.err != nil {
			break
		}
		if err != nil {
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
	return nil
}
