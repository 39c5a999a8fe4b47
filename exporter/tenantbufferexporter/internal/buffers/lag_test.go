package buffers

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"
)

func mustLag(t *testing.T, s *Store, tenant, consumer string) Lag {
	t.Helper()
	l, err := s.Lag(tenant, consumer)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// wantLag checks a consumer's lag in records and bytes; frame is the size
// of one record on disk (every payload in these tests has the same size).
func wantLag(t *testing.T, s *Store, tenant, consumer string, records int, frame int) {
	t.Helper()
	l := mustLag(t, s, tenant, consumer)
	if l.Records != int64(records) || l.Bytes != int64(records*frame) {
		t.Fatalf("%s/%s: lag %d records, %d bytes; want %d records, %d bytes", tenant, consumer, l.Records, l.Bytes, records, records*frame)
	}
}

// Lag in records is exact after appends, after commits (of what was read,
// and of an offset the consumer did not read up to), across segments and
// across a restart, without reading the segments on each call.
func TestLagRecordsAppendsCommitsRestart(t *testing.T) {
	dir := t.TempDir()
	clk := newFakeClock()
	o := testOptions(dir)
	o.Now = clk.Now
	s := openStore(t, o)
	frame := segment.FrameSize(100)
	t0 := clk.Now().UnixNano()
	mustAppend(t, s, "acme", payloads("a", 100, 100)) // ~11.6 KB: 3 segments of 4 KiB
	clk.Advance(time.Second)
	mustAppend(t, s, "acme", payloads("b", 50, 100))
	wantLag(t, s, "acme", "a", 150, frame)
	wantLag(t, s, "acme", "b", 150, frame)
	if l := mustLag(t, s, "acme", "a"); l.Oldest != t0 {
		t.Fatalf("oldest %d, want %d", l.Oldest, t0)
	}

	// Commit what was read (the record number comes from the read).
	recs, err := s.Read("acme", "a", 40, 1<<20)
	if err != nil || len(recs) != 40 {
		t.Fatalf("read %d, %v", len(recs), err)
	}
	if err := s.Commit("acme", "a", recs[39].Next); err != nil {
		t.Fatal(err)
	}
	wantLag(t, s, "acme", "a", 110, frame)
	wantLag(t, s, "acme", "b", 150, frame) // the other consumer has not moved
	// Commit less than was read: counted from the segment, still exact.
	recs, _ = s.Read("acme", "b", 60, 1<<20)
	if err := s.Commit("acme", "b", recs[44].Next); err != nil {
		t.Fatal(err)
	}
	wantLag(t, s, "acme", "b", 105, frame)
	// Read up to the second append's records: oldest unread is from t0+1s.
	recs, _ = s.Read("acme", "a", 60, 1<<20)
	if err := s.Commit("acme", "a", recs[59].Next); err != nil {
		t.Fatal(err)
	}
	wantLag(t, s, "acme", "a", 50, frame)
	if l := mustLag(t, s, "acme", "a"); l.Oldest != t0+int64(time.Second) {
		t.Fatalf("oldest %d, want %d", l.Oldest, t0+int64(time.Second))
	}
	s.Close()

	// After a restart: the record numbers come from the segment names and
	// the position files, not from reading the data.
	s2 := openStore(t, o)
	wantLag(t, s2, "acme", "a", 50, frame)
	wantLag(t, s2, "acme", "b", 105, frame)
	mustAppend(t, s2, "acme", payloads("c", 7, 100))
	wantLag(t, s2, "acme", "a", 57, frame)
	// A consumer at the end has no lag and no oldest record.
	for {
		recs, _ := s2.Read("acme", "a", 1000, 1<<20)
		if len(recs) == 0 {
			break
		}
		if err := s2.Commit("acme", "a", recs[len(recs)-1].Next); err != nil {
			t.Fatal(err)
		}
	}
	if l := mustLag(t, s2, "acme", "a"); l != (Lag{}) {
		t.Fatalf("lag at the end: %+v", l)
	}
	wantLag(t, s2, "acme", "b", 112, frame)
	s2.Close()
	s3 := openStore(t, o)
	wantLag(t, s3, "acme", "a", 0, frame)
	wantLag(t, s3, "acme", "b", 112, frame)
	if _, err := s3.Lag("nobody", "a"); err != ErrUnknownTenant {
		t.Fatalf("unknown tenant: %v", err)
	}
	if _, err := s3.Lag("acme", "nobody"); err != ErrUnknownConsumer {
		t.Fatalf("unknown consumer: %v", err)
	}
}

// Data removed under a consumer (retention here) leaves the lag counting
// only what the buffer still holds.
func TestLagRecordsAfterDataRemovedUnderConsumer(t *testing.T) {
	clk := newFakeClock()
	o := testOptions(t.TempDir())
	o.Now = clk.Now
	o.SegmentMaxAge = time.Minute
	s := openStore(t, o)
	frame := segment.FrameSize(100)
	mustAppend(t, s, "acme", payloads("old", 20, 100))
	clk.Advance(2 * time.Hour)
	mustAppend(t, s, "acme", payloads("new", 15, 100)) // a new segment (rolled by age)
	wantLag(t, s, "acme", "a", 35, frame)
	s.Sweep() // the old segment is past retention
	wantLag(t, s, "acme", "a", 15, frame)
	recs, _ := s.Read("acme", "a", 5, 1<<20)
	if len(recs) != 5 || !strings.HasPrefix(string(recs[0].Payload), "new-") {
		t.Fatalf("read %d", len(recs))
	}
	if err := s.Commit("acme", "a", recs[4].Next); err != nil {
		t.Fatal(err)
	}
	wantLag(t, s, "acme", "a", 10, frame)
}

// A store written before segments carried their first record number (and
// position files their record number) is renumbered once at start-up: the
// lag in records is exact, and the segments get names of the current form.
// "interrupted" leaves the newest segment renamed, as a crash half way
// through the renaming (newest first) would: the older ones count back
// from it.
func TestLagRecordsFromLegacyFiles(t *testing.T) {
	for _, interrupted := range []bool{false, true} {
		t.Run(fmt.Sprint("interrupted=", interrupted), func(t *testing.T) { testLagRecordsFromLegacyFiles(t, interrupted) })
	}
}

func testLagRecordsFromLegacyFiles(t *testing.T, interrupted bool) {
	dir := t.TempDir()
	o := testOptions(dir)
	s := openStore(t, o)
	frame := segment.FrameSize(100)
	mustAppend(t, s, "acme", payloads("a", 100, 100))
	recs, _ := s.Read("acme", "a", 30, 1<<20)
	if err := s.Commit("acme", "a", recs[29].Next); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Back to the old layout: "<base>.seg" names, a TBP2 position file.
	tdir := filepath.Join(dir, "t", DirName("acme"))
	entries, _ := os.ReadDir(tdir)
	segs, newest := 0, ""
	for _, e := range entries {
		if _, _, _, ok := segment.ParseFileName(e.Name()); ok {
			newest = max(newest, e.Name())
		}
	}
	for _, e := range entries {
		base, _, hasRec, ok := segment.ParseFileName(e.Name())
		if !ok || !hasRec {
			continue
		}
		segs++
		if interrupted && e.Name() == newest {
			continue
		}
		if err := os.Rename(filepath.Join(tdir, e.Name()), filepath.Join(tdir, segment.LegacyFileName(base))); err != nil {
			t.Fatal(err)
		}
	}
	if segs < 3 {
		t.Fatalf("%d segments, want several", segs)
	}
	var b [posFileSize]byte
	for i, seq := range []uint64{6, 7} {
		slot := b[int(seq%2)*posSlotSize:][:posSlotSize]
		copy(slot, posMagicV2)
		binary.LittleEndian.PutUint64(slot[4:], seq)
		binary.LittleEndian.PutUint64(slot[12:], recs[19+10*i].Next)
		binary.LittleEndian.PutUint32(slot[20:], crc32.Checksum(slot[:20], castagnoli))
	}
	if err := os.WriteFile(filepath.Join(tdir, posFile("a")), b[:], 0o640); err != nil {
		t.Fatal(err)
	}

	s2 := openStore(t, o)
	wantLag(t, s2, "acme", "a", 70, frame)
	wantLag(t, s2, "acme", "b", 100, frame)
	entries, _ = os.ReadDir(tdir)
	for _, e := range entries {
		if _, _, hasRec, ok := segment.ParseFileName(e.Name()); ok && !hasRec {
			t.Fatalf("segment %s not renamed", e.Name())
		}
	}
	mustAppend(t, s2, "acme", payloads("c", 3, 100))
	recs, _ = s2.Read("acme", "a", 10, 1<<20)
	if err := s2.Commit("acme", "a", recs[9].Next); err != nil {
		t.Fatal(err)
	}
	wantLag(t, s2, "acme", "a", 63, frame)
	s2.Close()
	s3 := openStore(t, o)
	wantLag(t, s3, "acme", "a", 63, frame)
	if got := readAll(t, s3, "acme", "b"); len(got) != 103 {
		t.Fatalf("read %d records after renaming, want 103", len(got))
	}
}
