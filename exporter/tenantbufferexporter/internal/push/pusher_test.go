package push

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/internal/otlprecord"
	jobs "github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

func openStore(t testing.TB, dir string) *buffers.Store {
	t.Helper()
	s, err := buffers.Open(buffers.Options{
		Dir: dir, MaxBuffers: buffers.Unlimited, MaxTenantBytes: buffers.Unlimited, MaxTotalBytes: buffers.Unlimited,
		MaxAge: time.Hour, SegmentBytes: 1 << 20, SegmentMaxAge: time.Hour, MaxRecordBytes: 1 << 20,
		MaxOpenFiles: 64, IdleTimeout: time.Hour, SweepInterval: time.Hour, Consumers: []string{"push"}, Sync: false,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testRules lets these tests' documents write files anywhere and push
// over plain http to their loopback servers: every job named in the
// document is allowed insecure.
func testRules(doc string) jobs.Rules {
	r := jobs.Rules{FileRoot: "/"}
	for _, m := range jobNames.FindAllStringSubmatch(doc, -1) {
		r.AllowInsecure = append(r.AllowInsecure, m[1])
	}
	return r
}

var jobNames = regexp.MustCompile(`name: ([^,}\s]+)`)

func table(t testing.TB, doc string) func() *jobs.Table {
	t.Helper()
	tb, err := jobs.Parse([]byte(doc), testRules(doc))
	if err != nil {
		t.Fatal(err)
	}
	return func() *jobs.Table { return tb }
}

// openDeadLetters opens an area with no caps (the tests of the caps set
// their own).
func openDeadLetters(t testing.TB, dir string) *DeadLetters {
	t.Helper()
	dl, err := OpenDeadLetters(DeadLetterOptions{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return dl
}

func pusherOptions(t testing.TB, st *buffers.Store, jt func() *jobs.Table, dead string) Options {
	return Options{Store: st, Consumer: "push", Jobs: jt, Workers: 4, QuantumBytes: 64 << 10,
		BackoffInitial: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		BreakerFailures: 3, BreakerOpen: 300 * time.Millisecond, DeadLetters: openDeadLetters(t, dead)}
}

func newPusher(t testing.TB, st *buffers.Store, jt func() *jobs.Table, dead string) *Pusher {
	return New(pusherOptions(t, st, jt, dead))
}

var enc = otlprecord.NewProtoEncoder()
var encMu sync.Mutex

func appendRecords(t testing.TB, st *buffers.Store, p *Pusher, tenant string, from, n int) {
	t.Helper()
	encMu.Lock()
	var ps [][]byte
	for i := from; i < from+n; i++ {
		lr := plog.NewLogRecord()
		lr.Body().SetStr(fmt.Sprintf("%s-%06d", tenant, i))
		b, err := enc.Encode(lr)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, b)
	}
	encMu.Unlock()
	if _, err := st.Append([]buffers.TenantRecords{{Tenant: tenant, Payloads: ps}}); err != nil {
		t.Fatal(err)
	}
	if p != nil {
		p.Notify(tenant, n)
	}
}

// readDir returns the bodies in a tenant's output files, and each file's record count.
func readDir(t testing.TB, dir string) (bodies []string, sizes []int) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	names := []string{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp") {
			continue // being written: not there yet for a reader
		}
		if strings.Contains(e.Name(), ".ndjson") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		switch {
		case strings.HasSuffix(n, ".gz"):
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		case strings.HasSuffix(n, ".zst"):
			zr, err := zstd.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			r = zr
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		count := 0
		var u plog.JSONUnmarshaler
		for sc.Scan() {
			ld, err := u.UnmarshalLogs(sc.Bytes())
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			bodies = append(bodies, ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
			count++
		}
		f.Close()
		sizes = append(sizes, count)
	}
	return bodies, sizes
}

func TestFileDestinationBatchesAndCompression(t *testing.T) {
	out := t.TempDir()
	st := openStore(t, t.TempDir())
	defer st.Close()
	jt := table(t, fmt.Sprintf(`
jobs:
  - {name: plain, tenant: plain, destination: {type: file, path: %[1]s}, batch: {max_records: 10, max_interval: 100ms}}
  - {name: gz, tenant: gz, destination: {type: file, path: %[1]s, compression: gzip}, batch: {max_records: 7, max_interval: 100ms}}
  - {name: zs, prefix: zs-, destination: {type: file, path: %[1]s, compression: zstd}, batch: {max_records: 1000, max_bytes: 200, max_interval: 100ms}}
`, out))
	p := newPusher(t, st, jt, t.TempDir())
	p.Start(nil)
	defer p.Stop()
	appendRecords(t, st, p, "plain", 0, 25)
	appendRecords(t, st, p, "gz", 0, 15)
	appendRecords(t, st, p, "zs-1", 0, 12)
	appendRecords(t, st, p, "nojob", 0, 5)
	for tenant, want := range map[string]int{"plain": 25, "gz": 15, "zs-1": 12} {
		testutil.WaitFor(t, 10*time.Second, tenant, func() bool { b, _ := readDir(t, filepath.Join(out, tenant)); return len(b) == want })
	}
	b, sizes := readDir(t, filepath.Join(out, "plain"))
	if fmt.Sprint(sizes) != "[10 10 5]" || b[0] != "plain-000000" || b[24] != "plain-000024" {
		t.Fatalf("plain batches %v", sizes)
	}
	if _, sizes := readDir(t, filepath.Join(out, "gz")); fmt.Sprint(sizes) != "[7 7 1]" {
		t.Fatalf("gzip batches %v", sizes)
	}
	if _, sizes := readDir(t, filepath.Join(out, "zs-1")); len(sizes) < 2 {
		t.Fatalf("max_bytes not respected: %v", sizes)
	}
	if _, err := os.Stat(filepath.Join(out, "nojob")); err == nil {
		t.Fatal("tenant without a job pushed")
	}
	// A batch's file is in place just before its commit is counted.
	testutil.WaitFor(t, 10*time.Second, "52 records counted", func() bool { return p.Records.Load() == 52 })
	p.Stop()
	for _, tenant := range []string{"plain", "gz", "zs-1"} {
		entries, _ := os.ReadDir(filepath.Join(out, tenant))
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".tmp") {
				t.Fatalf("temp file left: %s", e.Name())
			}
		}
	}
}

func TestIntervalRespected(t *testing.T) {
	out := t.TempDir()
	st := openStore(t, t.TempDir())
	defer st.Close()
	jt := table(t, fmt.Sprintf(`jobs: [{name: a, tenant: a, destination: {type: file, path: %s}, batch: {max_records: 1000, max_interval: 300ms}}]`, out))
	p := newPusher(t, st, jt, t.TempDir())
	p.Start(nil)
	defer p.Stop()
	start := time.Now()
	appendRecords(t, st, p, "a", 0, 3)
	testutil.WaitFor(t, 10*time.Second, "the partial batch", func() bool { b, _ := readDir(t, filepath.Join(out, "a")); return len(b) == 3 })
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("partial batch pushed after %v, before its interval", el)
	}
}

// A destination that stalls (or fails) must not delay other tenants beyond
// their interval.
func TestStalledTenantDoesNotBlockOthers(t *testing.T) {
	out := t.TempDir()
	release := make(chan struct{})
	var stalled, flaky atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stall":
			stalled.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/429":
			flaky.Add(1)
			w.WriteHeader(http.StatusTooManyRequests)
		case "/bad":
			w.WriteHeader(http.StatusBadRequest)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	defer close(release)
	var doc strings.Builder
	fmt.Fprintf(&doc, "jobs:\n")
	fmt.Fprintf(&doc, "  - {name: stall, tenant: stall, destination: {type: http, url: %q, timeout: 2s}, batch: {max_records: 5, max_interval: 50ms}}\n", srv.URL+"/stall")
	fmt.Fprintf(&doc, "  - {name: flaky, tenant: flaky, destination: {type: http, url: %q}, batch: {max_records: 5, max_interval: 50ms}}\n", srv.URL+"/429")
	fmt.Fprintf(&doc, "  - {name: bad, tenant: bad, destination: {type: http, url: %q}, batch: {max_records: 5, max_interval: 50ms}}\n", srv.URL+"/bad")
	fmt.Fprintf(&doc, "  - {name: ok-http, tenant: ok-http, destination: {type: http, url: %q}, batch: {max_records: 5, max_interval: 50ms}}\n", srv.URL+"/ok")
	for i := range 6 {
		fmt.Fprintf(&doc, "  - {name: f%d, tenant: f%d, destination: {type: file, path: %s}, batch: {max_records: 100, max_interval: 200ms}}\n", i, i, out)
	}
	st := openStore(t, t.TempDir())
	defer st.Close()
	dead := t.TempDir()
	p := newPusher(t, st, table(t, doc.String()), dead)
	p.Start(nil)
	defer p.Stop()
	for _, bad := range []string{"stall", "flaky", "bad"} {
		appendRecords(t, st, p, bad, 0, 20)
	}
	testutil.WaitFor(t, 5*time.Second, "the stall to begin", func() bool { return stalled.Load() > 0 })
	appendRecords(t, st, p, "ok-http", 0, 5)
	start := time.Now()
	for i := range 6 {
		appendRecords(t, st, p, fmt.Sprint("f", i), 0, 10)
	}
	for i := range 6 {
		testutil.WaitFor(t, 5*time.Second, fmt.Sprint("f", i), func() bool {
			b, _ := readDir(t, filepath.Join(out, fmt.Sprint("f", i)))
			return len(b) == 10
		})
	}
	// Interval 200 ms; allow scheduling slack but nothing like the 2 s stall.
	if el := time.Since(start); el > time.Second {
		t.Fatalf("healthy tenants delayed %v by a stalled one", el)
	}
	// 429s are retried with backoff (and the breaker opens), never parked.
	testutil.WaitFor(t, 5*time.Second, "retries of 429", func() bool { return flaky.Load() >= 3 && p.BreakerOpens.Load() >= 1 })
	if pos, _, _ := st.Position("flaky", "push"); pos != 0 {
		t.Fatal("position moved although the destination refused")
	}
	// 400: parked in the dead-letter area, position moves on.
	testutil.WaitFor(t, 5*time.Second, "400 parked", func() bool { return p.Parked.Load() == 20 })
	if b, _ := readDir(t, filepath.Join(dead, "bad")); len(b) != 20 {
		t.Fatalf("dead letters: %d", len(b))
	}
	if f := p.Failures(); f["http_429"] < 3 || f["rejected"] != 4 {
		t.Fatalf("failures %v", f)
	}
}

func TestRestartResumesWithoutLoss(t *testing.T) {
	out, dir := t.TempDir(), t.TempDir()
	doc := fmt.Sprintf(`jobs: [{name: a, tenant: a, destination: {type: file, path: %s}, batch: {max_records: 7, max_interval: 50ms}}]`, out)
	st := openStore(t, dir)
	p := newPusher(t, st, table(t, doc), t.TempDir())
	p.Start(nil)
	appendRecords(t, st, p, "a", 0, 30)
	testutil.WaitFor(t, 5*time.Second, "a first push", func() bool { return p.Records.Load() >= 7 })
	p.Stop()
	appendRecords(t, st, nil, "a", 30, 20) // written while no pusher runs
	st.Close()

	st2 := openStore(t, dir)
	defer st2.Close()
	p2 := newPusher(t, st2, table(t, doc), t.TempDir())
	p2.Start([]string{"a"}) // the tenants the store holds
	defer p2.Stop()
	testutil.WaitFor(t, 10*time.Second, "everything pushed", func() bool { b, _ := readDir(t, filepath.Join(out, "a")); return len(b) >= 50 })
	bodies, sizes := readDir(t, filepath.Join(out, "a"))
	seen := map[string]bool{}
	for _, b := range bodies {
		seen[b] = true
	}
	for i := range 50 {
		if !seen[fmt.Sprintf("a-%06d", i)] {
			t.Fatalf("record %d lost across the restart", i)
		}
	}
	for _, n := range sizes {
		if n > 7 {
			t.Fatalf("batch of %d > max_records", n)
		}
	}
}

// A partial batch waiting for its interval goes as soon as later records
// fill it, not at the end of the interval: the records already buffered
// count toward max_records. The lag in records follows exactly.
func TestPartialBatchGoesWhenFilled(t *testing.T) {
	out := t.TempDir()
	st := openStore(t, t.TempDir())
	defer st.Close()
	jt := table(t, fmt.Sprintf(`jobs: [{name: a, tenant: a, destination: {type: file, path: %s}, batch: {max_records: 10, max_interval: 1h}}]`, out))
	p := newPusher(t, st, jt, t.TempDir())
	p.Start(nil)
	defer p.Stop()
	appendRecords(t, st, p, "a", 0, 6)
	// The worker has read the 6 and put the tenant on its timer.
	testutil.WaitFor(t, 5*time.Second, "the partial batch deferred", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		s := p.tenants["a"]
		return s != nil && s.heapIdx >= 0 && !s.running
	})
	if l, err := p.LagOf("a"); err != nil || l.Records != 6 {
		t.Fatalf("lag %+v %v, want 6 records", l, err)
	}
	appendRecords(t, st, p, "a", 6, 4)
	testutil.WaitFor(t, 5*time.Second, "the filled batch", func() bool { return p.Records.Load() == 10 })
	if _, sizes := readDir(t, filepath.Join(out, "a")); fmt.Sprint(sizes) != "[10]" {
		t.Fatalf("batches %v, want one of 10", sizes)
	}
	if l, err := p.LagOf("a"); err != nil || l.Records != 0 || l.Bytes != 0 || l.OldestAge != 0 {
		t.Fatalf("lag after the push %+v %v", l, err)
	}
	appendRecords(t, st, p, "a", 10, 3)
	if l, err := p.LagOf("a"); err != nil || l.Records != 3 || l.OldestAge < 0 {
		t.Fatalf("lag %+v %v, want 3 records", l, err)
	}
}
