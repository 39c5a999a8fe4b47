package buffers

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

func readPos(t *testing.T, path string) (pos, seq uint64, ok bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := decodePosFile(b)
	return r.pos, r.seq, ok
}

func TestPosFileAlternatesSlotsInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos-push")
	created, err := writePosSlot(path, 1, 100, 10, true, false)
	if err != nil || !created {
		t.Fatalf("first write: created=%v err=%v", created, err)
	}
	if _, err := writePosSlot(path, 2, 200, 20, true, true); err != nil {
		t.Fatal(err)
	}
	if _, err := writePosSlot(path, 3, 300, 30, false, true); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Size() != posFileSize {
		t.Fatalf("size %d, want %d", fi.Size(), posFileSize)
	}
	b, _ := os.ReadFile(path)
	if r, ok := decodePosFile(b); !ok || r.pos != 300 || r.seq != 3 || !r.hasRec || r.rec != 30 {
		t.Fatalf("got %+v ok=%v, want pos 300, seq 3, record 30", r, ok)
	}
}

// A crash in the middle of writing a slot leaves garbage in that slot only:
// the position falls back to the previous commit, never before it and never
// past the torn one.
func TestPosFileTornWriteKeepsPreviousCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos-push")
	for seq, pos := range []uint64{10, 20, 30} {
		if _, err := writePosSlot(path, uint64(seq+1), pos, pos/10, false, false); err != nil {
			t.Fatal(err)
		}
	}
	// seq 4 (pos 40) goes to slot 0; tear it after each possible byte count.
	b, _ := os.ReadFile(path)
	var full [posSlotSize]byte
	encodePosSlot(full[:], 4, 40, 4)
	for cut := 0; cut < posSlotSize; cut++ { // the CRC covers every byte of the slot
		torn := append([]byte(nil), b...)
		copy(torn[:cut], full[:cut])
		for i := cut; i < posSlotSize; i++ {
			torn[i] ^= 0x5a // whatever the sector held: not the new bytes
		}
		r, ok := decodePosFile(torn)
		if !ok || r.pos != 30 || r.seq != 3 || r.rec != 3 {
			t.Fatalf("torn after %d bytes: %+v ok=%v, want the previous commit 30", cut, r, ok)
		}
	}
	// Whole new slot: the new position.
	whole := append([]byte(nil), b...)
	copy(whole, full[:])
	if r, ok := decodePosFile(whole); !ok || r.pos != 40 || r.rec != 4 {
		t.Fatalf("whole write: %+v ok=%v", r, ok)
	}
	// Both slots damaged: no position (the store reads from the oldest record).
	bad := make([]byte, posFileSize)
	if _, ok := decodePosFile(bad); ok {
		t.Fatal("zero file decoded")
	}
}

func TestPosFileReadsAndReplacesLegacyFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pos-push")
	var b [legacyPosLen]byte
	binary.LittleEndian.PutUint64(b[:8], 77)
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b[:8], castagnoli))
	if err := os.WriteFile(path, b[:], 0o640); err != nil {
		t.Fatal(err)
	}
	if pos, seq, ok := readPos(t, path); !ok || pos != 77 || seq != 0 {
		t.Fatalf("legacy: pos=%d seq=%d ok=%v", pos, seq, ok)
	}
	if _, err := writePosSlot(path, 1, 90, 9, false, false); err != nil {
		t.Fatal(err)
	}
	if pos, seq, ok := readPos(t, path); !ok || pos != 90 || seq != 1 {
		t.Fatalf("after rewrite: pos=%d seq=%d ok=%v", pos, seq, ok)
	}
	// An oversized damaged file is cut back to the fixed size.
	if err := os.WriteFile(path, make([]byte, 200), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := writePosSlot(path, 5, 95, 9, false, false); err != nil {
		t.Fatal(err)
	}
	if pos, _, ok := readPos(t, path); !ok || pos != 95 {
		t.Fatalf("after damaged: pos=%d ok=%v", pos, ok)
	}
}

// Through the store: commits survive a restart; a torn last position write
// brings back the previous commit (the batch after it is read again), and
// positions go on from there.
func TestStoreTornPositionWriteFallsBackOneCommit(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(dir))
	mustAppend(t, s, "acme", payloads("p", 30, 50))
	var commits []uint64
	for range 3 {
		recs, err := s.Read("acme", "b", 10, 1<<20)
		if err != nil || len(recs) != 10 {
			t.Fatalf("read %d, %v", len(recs), err)
		}
		if err := s.Commit("acme", "b", recs[9].Next); err != nil {
			t.Fatal(err)
		}
		commits = append(commits, recs[9].Next)
	}
	s.Close()
	path := filepath.Join(dir, "t", DirName("acme"), posFile("b"))
	b, err := os.ReadFile(path)
	if err != nil || len(b) != posFileSize {
		t.Fatalf("position file: %d bytes, %v", len(b), err)
	}
	if r, ok := decodePosFile(b); !ok || r.pos != commits[2] {
		t.Fatalf("stored %+v, want %d", r, commits[2])
	}
	// The third commit (seq 3) is in slot 1: tear it half way.
	for i := posSlotSize + 10; i < posFileSize; i++ {
		b[i] = 0
	}
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, testOptions(dir))
	if pos, _, err := s2.Position("acme", "b"); err != nil || pos != commits[1] {
		t.Fatalf("after torn write: pos %d (%v), want the previous commit %d", pos, err, commits[1])
	}
	if n := s2.Stats().BadPositions; n != 0 {
		t.Fatalf("bad positions %d: one good slot is not a bad file", n)
	}
	recs, err := s2.Read("acme", "b", 100, 1<<20)
	if err != nil || len(recs) != 10 || recs[len(recs)-1].Next != commits[2] {
		t.Fatalf("re-read %d records, %v", len(recs), err)
	}
	if err := s2.Commit("acme", "b", commits[2]); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s3 := openStore(t, testOptions(dir))
	if pos, _, _ := s3.Position("acme", "b"); pos != commits[2] {
		t.Fatalf("after the next commit: %d, want %d", pos, commits[2])
	}
	s3.Close()
}
