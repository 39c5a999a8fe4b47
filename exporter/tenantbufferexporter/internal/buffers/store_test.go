package buffers

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"
)

// fakeClock is a settable clock for retention and idle tests.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func testOptions(dir string) Options {
	return Options{
		Dir:            dir,
		MaxBuffers:     100,
		MaxTenantBytes: 1 << 20,
		MaxTotalBytes:  8 << 20,
		MaxAge:         time.Hour,
		SegmentBytes:   4 << 10,
		SegmentMaxAge:  10 * time.Minute,
		MaxRecordBytes: 64 << 10,
		MaxOpenFiles:   8,
		IdleTimeout:    time.Minute,
		SweepInterval:  time.Hour, // tests call Sweep themselves
		Consumers:      []string{"a", "b"},
		Sync:           true,
		TopN:           3,
	}
}

func openStore(t *testing.T, o Options) *Store {
	t.Helper()
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func payloads(prefix string, n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		p := fmt.Appendf(nil, "%s-%06d-", prefix, i)
		for len(p) < size {
			p = append(p, 'x')
		}
		out[i] = p
	}
	return out
}

func mustAppend(t *testing.T, s *Store, tenant string, ps [][]byte) AppendResult {
	t.Helper()
	res, err := s.Append([]TenantRecords{{Tenant: tenant, Payloads: ps}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readAll(t *testing.T, s *Store, tenant, consumer string) []Record {
	t.Helper()
	var out []Record
	for range 10000 {
		recs, err := s.Read(tenant, consumer, 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		// Read does not move the position; a private cursor does here.
		if err := s.Commit(tenant, consumer, recs[len(recs)-1].Next); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("readAll did not end")
	return nil
}

func TestAppendReadRoundTripAcrossSegments(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	in := payloads("r", 200, 100) // ~23 KB: several 4 KB segments
	res := mustAppend(t, s, "acme", in)
	if res.Accepted != 200 {
		t.Fatalf("accepted %d", res.Accepted)
	}
	got := readAll(t, s, "acme", "a")
	if len(got) != len(in) {
		t.Fatalf("read %d records, want %d", len(got), len(in))
	}
	for i := range in {
		if !bytes.Equal(got[i].Payload, in[i]) {
			t.Fatalf("record %d: %q", i, got[i].Payload)
		}
	}
}

func TestMultipleConsumersIndependentPositions(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(dir))
	in := payloads("m", 100, 100)
	mustAppend(t, s, "acme", in)
	if got := readAll(t, s, "acme", "a"); len(got) != 100 {
		t.Fatalf("consumer a read %d", len(got))
	}
	// b has not moved: it sees everything, and a sees nothing more.
	recs, err := s.Read("acme", "b", 30, 1<<20)
	if err != nil || len(recs) != 30 || !bytes.Equal(recs[0].Payload, in[0]) {
		t.Fatalf("consumer b: %d records, err %v", len(recs), err)
	}
	if err := s.Commit("acme", "b", recs[29].Next); err != nil {
		t.Fatal(err)
	}
	// Segments b has not passed are kept although a passed them.
	if n, _ := s.TenantBytes("acme"); n == 0 {
		t.Fatal("data removed before every consumer passed it")
	}
	before, _ := s.TenantBytes("acme")
	s.Close()

	// Positions survive a restart.
	s2 := openStore(t, testOptions(dir))
	if recs, _ := s2.Read("acme", "a", 10, 1<<20); len(recs) != 0 {
		t.Fatalf("consumer a after restart read %d, want 0", len(recs))
	}
	recs, _ = s2.Read("acme", "b", 1, 1<<20)
	if len(recs) != 1 || !bytes.Equal(recs[0].Payload, in[30]) {
		t.Fatalf("consumer b after restart at %q", recs[0].Payload)
	}
	rest := readAll(t, s2, "acme", "b")
	if len(rest) != 70 {
		t.Fatalf("b read %d after restart, want 70", len(rest))
	}
	after, _ := s2.TenantBytes("acme")
	if after >= before || s2.Stats().ConsumedBytes == 0 {
		t.Fatalf("passed segments not removed: %d -> %d", before, after)
	}
	if _, err := s2.Read("acme", "nobody", 1, 1); !errors.Is(err, ErrUnknownConsumer) {
		t.Fatalf("unknown consumer: %v", err)
	}
}

func TestGuardMaxBuffersRefusesNewTenantsOnly(t *testing.T) {
	o := testOptions(t.TempDir())
	o.MaxBuffers = 3
	s := openStore(t, o)
	for i := range 3 {
		mustAppend(t, s, fmt.Sprint("t", i), payloads("x", 5, 50))
	}
	res := mustAppend(t, s, "t3", payloads("x", 7, 50))
	if res.Accepted != 0 || res.Refused[ReasonMaxBuffers] != 7 {
		t.Fatalf("new tenant at the cap: %+v", res)
	}
	// Admitted tenants are not hurt.
	if res := mustAppend(t, s, "t1", payloads("x", 5, 50)); res.Accepted != 5 {
		t.Fatalf("admitted tenant refused: %+v", res)
	}
	st := s.Stats()
	if st.Buffers != 3 || st.Refused["max_buffers"] != 7 {
		t.Fatalf("stats: %+v", st)
	}
	// Deleting a tenant frees its slot.
	if err := s.DeleteTenant("t0"); err != nil {
		t.Fatal(err)
	}
	if res := mustAppend(t, s, "t3", payloads("x", 1, 50)); res.Accepted != 1 {
		t.Fatalf("slot not freed: %+v", res)
	}
}

func TestGuardMaxBuffersOverflowBuffer(t *testing.T) {
	o := testOptions(t.TempDir())
	o.MaxBuffers = 3 // the overflow buffer takes one slot
	o.OverflowTenant = "_overflow"
	s := openStore(t, o)
	mustAppend(t, s, "a", payloads("x", 1, 50))
	mustAppend(t, s, "b", payloads("x", 1, 50))
	res := mustAppend(t, s, "c", payloads("x", 4, 50))
	if res.Accepted != 4 || res.Overflowed != 4 {
		t.Fatalf("overflow: %+v", res)
	}
	if got := readAll(t, s, "_overflow", "a"); len(got) != 4 {
		t.Fatalf("overflow buffer holds %d", len(got))
	}
	if _, ok := s.TenantBytes("c"); ok {
		t.Fatal("tenant c got a buffer of its own")
	}
}

func TestGuardMaxTenantBytes(t *testing.T) {
	o := testOptions(t.TempDir())
	o.MaxTenantBytes = 10 * int64(segment.FrameSize(100))
	s := openStore(t, o)
	res := mustAppend(t, s, "big", payloads("x", 15, 100))
	if res.Accepted != 10 || res.Refused[ReasonTenantBytes] != 5 {
		t.Fatalf("tenant cap: %+v", res)
	}
	if res := mustAppend(t, s, "small", payloads("x", 3, 100)); res.Accepted != 3 {
		t.Fatalf("other tenant hurt: %+v", res)
	}
}

func TestGuardMaxTotalBytes(t *testing.T) {
	o := testOptions(t.TempDir())
	fs := int64(segment.FrameSize(100))
	o.MaxTotalBytes = 20 * fs
	o.MaxTenantBytes = Unlimited
	s := openStore(t, o)
	res1 := mustAppend(t, s, "a", payloads("x", 12, 100))
	res2 := mustAppend(t, s, "b", payloads("x", 12, 100))
	if res1.Accepted+res2.Accepted != 20 || res2.Refused[ReasonTotalBytes] != 4 {
		t.Fatalf("total cap: %+v %+v", res1, res2)
	}
	if st := s.Stats(); st.Bytes > o.MaxTotalBytes {
		t.Fatalf("bytes %d over the cap %d", st.Bytes, o.MaxTotalBytes)
	}
}

func TestGuardMinFreeDisk(t *testing.T) {
	o := testOptions(t.TempDir())
	o.MinFreeDiskBytes = math.MaxInt64 / 4 // more than any disk has free
	s := openStore(t, o)
	res := mustAppend(t, s, "a", payloads("x", 3, 100))
	if res.Refused[ReasonMinFreeDisk] != 3 {
		t.Fatalf("free-disk watermark: %+v", res)
	}
}

func TestGuardRecordTooLarge(t *testing.T) {
	o := testOptions(t.TempDir())
	o.MaxRecordBytes = 100
	s := openStore(t, o)
	res := mustAppend(t, s, "a", [][]byte{make([]byte, 101), make([]byte, 100)})
	if res.Accepted != 1 || res.Refused[ReasonRecordTooLarge] != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestFairReclaimMaxMin(t *testing.T) {
	o := testOptions(t.TempDir())
	o.SegmentBytes = 1 << 10
	o.MaxTenantBytes = Unlimited
	o.MaxTotalBytes = Unlimited
	s := openStore(t, o)
	// Three tenants of different sizes, together 300 KB (1 KB frames).
	sizes := map[string]int{"small": 20, "medium": 100, "large": 180}
	for name, n := range sizes {
		mustAppend(t, s, name, payloads(name, n, 1024-segment.HeaderSize))
	}
	const target = 200 << 10
	level := s.ReclaimTo(target)
	// Max-min: small keeps its 20 KB; the remaining 180 KB are split in two.
	if want := int64(90 << 10); level != want {
		t.Fatalf("fair level %d, want %d", level, want)
	}
	small, _ := s.TenantBytes("small")
	medium, _ := s.TenantBytes("medium")
	large, _ := s.TenantBytes("large")
	if small != 20<<10 {
		t.Fatalf("small lost data: %d", small)
	}
	for name, got := range map[string]int64{"medium": medium, "large": large} {
		if got > level || got < level-o.SegmentBytes {
			t.Fatalf("%s at %d, want within one segment below %d", name, got, level)
		}
	}
	st := s.Stats()
	if st.ReclaimedBytes != 300<<10-(small+medium+large) || st.FairLevelBytes != level {
		t.Fatalf("figures: %+v", st)
	}
	// The oldest records went first: large's first remaining record is a late one.
	recs, _ := s.Read("large", "a", 1, 1<<20)
	if !bytes.HasPrefix(recs[0].Payload, []byte("large-00009")) {
		t.Fatalf("large now starts at %q", recs[0].Payload[:16])
	}
	if s.Stats().SkippedBytes == 0 {
		t.Fatal("skipped bytes not counted")
	}
}

func TestFairShare(t *testing.T) {
	cases := []struct {
		sizes  []int64
		target int64
		want   int64
	}{
		{[]int64{10, 20, 30}, 100, math.MaxInt64},
		{[]int64{10, 50, 90}, 90, 40},
		{[]int64{30, 30, 30}, 60, 20},
		{[]int64{5}, 3, 3},
		{nil, 10, math.MaxInt64},
	}
	for _, c := range cases {
		if got := FairShare(c.sizes, c.target); got != c.want {
			t.Errorf("FairShare(%v, %d) = %d, want %d", c.sizes, c.target, got, c.want)
		}
	}
}

func TestReclaimTriggeredByBudget(t *testing.T) {
	o := testOptions(t.TempDir())
	o.SegmentBytes = 1 << 10
	o.MaxTenantBytes = Unlimited
	o.MaxTotalBytes = 100 << 10
	s := openStore(t, o)
	mustAppend(t, s, "tiny", payloads("t", 2, 1024-segment.HeaderSize))
	// Crossing 95% of the budget wakes the sweeper, which reclaims.
	mustAppend(t, s, "hog", payloads("h", 96, 1024-segment.HeaderSize))
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Bytes > o.MaxTotalBytes/100*reclaimTargetPct {
		if time.Now().After(deadline) {
			t.Fatalf("not reclaimed: %+v", s.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	if s.Stats().ReclaimedBytes == 0 {
		t.Fatal("reclaimed bytes not counted")
	}
	if n, _ := s.TenantBytes("tiny"); n != 2<<10 {
		t.Fatalf("tiny tenant paid for the hog: %d", n)
	}
}

func TestRetentionWithOverrides(t *testing.T) {
	clk := newFakeClock()
	o := testOptions(t.TempDir())
	o.Now = clk.Now
	o.MaxAge = time.Hour
	o.MaxAgeOverrides = map[string]time.Duration{"keep": Unlimited, "short": time.Minute}
	s := openStore(t, o)
	for _, n := range []string{"default", "keep", "short"} {
		mustAppend(t, s, n, payloads(n, 50, 200))
	}
	clk.Advance(30 * time.Minute)
	for _, n := range []string{"default", "keep", "short"} {
		mustAppend(t, s, n, payloads(n+"-new", 1, 200))
	}
	s.Sweep()
	if got := readAll(t, s, "short", "a"); len(got) != 1 {
		t.Fatalf("short kept %d records, want only the new one", len(got))
	}
	if got := readAll(t, s, "default", "a"); len(got) != 51 {
		t.Fatalf("default kept %d, want 51", len(got))
	}
	clk.Advance(61 * time.Minute)
	s.Sweep()
	if n, ok := s.TenantBytes("default"); ok && n != 0 {
		t.Fatalf("default not expired: %d", n)
	}
	if got := readAll(t, s, "keep", "b"); len(got) != 51 {
		t.Fatalf("keep-forever kept %d", len(got))
	}
	if s.Stats().ExpiredBytes == 0 {
		t.Fatal("expired bytes not counted")
	}
}

func TestDeleteTenant(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(dir))
	mustAppend(t, s, "gone", payloads("g", 100, 100))
	mustAppend(t, s, "stays", payloads("s", 10, 100))
	if err := s.DeleteTenant("gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t", DirName("gone"))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("directory left: %v", err)
	}
	if _, err := s.Read("gone", "a", 1, 1); !errors.Is(err, ErrUnknownTenant) {
		t.Fatalf("read after delete: %v", err)
	}
	if err := s.DeleteTenant("gone"); !errors.Is(err, ErrUnknownTenant) {
		t.Fatalf("second delete: %v", err)
	}
	st := s.Stats()
	if st.Buffers != 1 || st.Bytes != 10*int64(segment.FrameSize(100)) {
		t.Fatalf("stats after delete: %+v", st)
	}
	s.Close()
	s2 := openStore(t, testOptions(dir))
	if _, ok := s2.TenantBytes("gone"); ok {
		t.Fatal("deleted tenant came back after restart")
	}
	if got := readAll(t, s2, "stays", "a"); len(got) != 10 {
		t.Fatalf("other tenant: %d", len(got))
	}
}

func TestRecoveryAfterTornWrite(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(dir))
	in := payloads("w", 10, 100)
	mustAppend(t, s, "acme", in)
	s.Close()
	// A torn write: half a frame after the last whole one, then garbage.
	seg := filepath.Join(dir, "t", DirName("acme"), segment.FileName(0, 0))
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	frame := segment.AppendFrame(nil, 1, []byte("never acknowledged"))
	if _, err := f.Write(frame[:len(frame)/2]); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openStore(t, testOptions(dir))
	st := s2.Stats()
	if st.TornSegments != 1 || st.TornBytes != int64(len(frame)/2) {
		t.Fatalf("torn tail not counted: %+v", st)
	}
	// New appends follow the last whole record and read back cleanly.
	mustAppend(t, s2, "acme", payloads("after", 1, 100))
	got := readAll(t, s2, "acme", "a")
	if len(got) != 11 || !bytes.HasPrefix(got[10].Payload, []byte("after")) {
		t.Fatalf("after recovery read %d records", len(got))
	}

	// A flipped bit in the middle of the tail is also cut, not fatal.
	s2.Close()
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-3] ^= 0x55
	if err := os.WriteFile(seg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s3 := openStore(t, testOptions(dir))
	if s3.Stats().TornSegments != 1 {
		t.Fatalf("corrupt tail not counted: %+v", s3.Stats())
	}
}

func TestFileHandlesBoundedAndIdleClosed(t *testing.T) {
	clk := newFakeClock()
	o := testOptions(t.TempDir())
	o.Now = clk.Now
	o.MaxOpenFiles = 4
	s := openStore(t, o)
	for i := range 50 {
		mustAppend(t, s, fmt.Sprint("t", i), payloads("x", 2, 50))
		if n := s.Stats().OpenFiles; n > 4 {
			t.Fatalf("%d open files, cap 4", n)
		}
	}
	// Every tenant's data is intact although its writer was closed.
	for i := range 50 {
		mustAppend(t, s, fmt.Sprint("t", i), payloads("y", 1, 50))
	}
	for i := range 50 {
		if got := readAll(t, s, fmt.Sprint("t", i), "a"); len(got) != 3 {
			t.Fatalf("t%d: %d records", i, len(got))
		}
	}
	clk.Advance(2 * time.Minute)
	s.Sweep()
	if n := s.Stats().OpenFiles; n != 0 {
		t.Fatalf("idle writers left open: %d", n)
	}
	// Consumer a read everything; b did not: nothing can be removed yet.
	if st := s.Stats(); st.Buffers != 50 {
		t.Fatalf("buffers %d", st.Buffers)
	}
	for i := range 50 {
		readAll(t, s, fmt.Sprint("t", i), "b")
	}
	clk.Advance(2 * time.Minute)
	s.Sweep()
	if st := s.Stats(); st.Buffers != 0 || st.Bytes != 0 {
		t.Fatalf("fully consumed idle buffers not released: %+v", st)
	}
}

func TestTopN(t *testing.T) {
	s := openStore(t, testOptions(t.TempDir()))
	for i := range 10 {
		mustAppend(t, s, fmt.Sprint("t", i), payloads("x", i+1, 100))
	}
	s.Sweep()
	top := s.Stats().Top
	if len(top) != 3 || top[0].Tenant != "t9" || top[1].Tenant != "t8" || top[2].Tenant != "t7" {
		t.Fatalf("top: %+v", top)
	}
}

func TestConcurrentAppendsAndReads(t *testing.T) {
	o := testOptions(t.TempDir())
	o.MaxOpenFiles = 3
	o.Consumers = []string{"a"}
	s := openStore(t, o)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				batch := []TenantRecords{
					{Tenant: fmt.Sprint("t", (w+i)%6), Payloads: payloads(fmt.Sprint(w), 3, 40)},
					{Tenant: fmt.Sprint("t", (w+i+1)%6), Payloads: payloads(fmt.Sprint(w), 2, 40)},
				}
				if _, err := s.Append(batch); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 100 {
			if _, err := s.Read(fmt.Sprint("t", i%6), "a", 10, 1<<10); err != nil && !errors.Is(err, ErrUnknownTenant) {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	total := 0
	for i := range 6 {
		total += len(readAll(t, s, fmt.Sprint("t", i), "a"))
	}
	if total != 4*50*5 {
		t.Fatalf("read %d records, wrote %d", total, 4*50*5)
	}
}

func TestStoreIDIsKeptAcrossOpens(t *testing.T) {
	dir := t.TempDir()
	open := func(dir string) *Store {
		t.Helper()
		s, err := Open(testOptions(dir))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1 := open(dir)
	id := s1.ID()
	if len(id) != 16 {
		t.Fatalf("id %q", id)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(dir)
	defer s2.Close()
	if s2.ID() != id {
		t.Fatalf("reopened: id %q, was %q", s2.ID(), id)
	}
	other := open(t.TempDir())
	defer other.Close()
	if other.ID() == id {
		t.Fatal("another store has the same identity")
	}
}
