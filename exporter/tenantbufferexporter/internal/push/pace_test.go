package push

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	jobs "github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"
)

// arrivals records when each request to a path arrived (before it was
// answered), and the status it got.
type arrivals struct {
	mu    sync.Mutex
	times map[string][]time.Time
	codes map[string][]int
}

func newArrivals() *arrivals {
	return &arrivals{times: map[string][]time.Time{}, codes: map[string][]int{}}
}

func (a *arrivals) add(path string, code int) {
	a.mu.Lock()
	a.times[path] = append(a.times[path], time.Now())
	a.codes[path] = append(a.codes[path], code)
	a.mu.Unlock()
}

// accepted returns the arrival times of the requests to path answered 2xx.
func (a *arrivals) accepted(path string) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []time.Time
	for i, c := range a.codes[path] {
		if c/100 == 2 {
			out = append(out, a.times[path][i])
		}
	}
	return out
}

func (a *arrivals) all(path string) ([]time.Time, []int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.times[path]...), append([]int(nil), a.codes[path]...)
}

// appendSized appends n records of tenant whose bodies are size bytes.
func appendSized(t testing.TB, st *buffers.Store, p *Pusher, tenant string, n, size int) {
	t.Helper()
	encMu.Lock()
	ps := make([][]byte, 0, n)
	for i := range n {
		lr := plog.NewLogRecord()
		lr.Body().SetStr(fmt.Sprintf("%s-%06d-%s", tenant, i, strings.Repeat("x", size)))
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

// pacedBy returns an Options.Pace that gives the named jobs their pace.
func pacedBy(paces map[string]Pace) func(*jobs.Job) Pace {
	return func(j *jobs.Job) Pace { return paces[j.Name] }
}

// A destination that recovers while its tenant holds a backlog receives
// the backlog at the job's pace, not at once: N pushes at R a second with
// a burst of B take at least (N-B)/R from the first accepted one to the
// last, and N bytes at R bytes a second with a bucket of C take (N-C)/R.
// Without the pace the backlog arrives in milliseconds.
func TestPaceHoldsForARecoveringDestination(t *testing.T) {
	// Slack for the time a request takes from the pusher to the server;
	// the bounds below are over a second.
	const slack = 150 * time.Millisecond
	run := func(t *testing.T, pace Pace, records, bodySize, batchRecords int) (accepted []time.Time, bytes int64, waits []TenantWaits) {
		seen := newArrivals()
		var failFirst atomic.Int64
		failFirst.Store(3) // down for the first three tries: the backlog builds up behind the backoff
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			code := http.StatusNoContent
			if failFirst.Add(-1) >= 0 {
				code = http.StatusServiceUnavailable
			}
			seen.add(r.URL.Path, code)
			w.WriteHeader(code)
		}))
		defer srv.Close()
		st := openStore(t, t.TempDir())
		defer st.Close()
		jt := table(t, fmt.Sprintf("jobs:\n  - {name: slow, tenant: slow, destination: {type: http, url: %q}, batch: {max_records: %d, max_interval: 10ms}}\n",
			srv.URL+"/slow", batchRecords))
		o := pusherOptions(t, st, jt, t.TempDir())
		o.Pace = pacedBy(map[string]Pace{"slow": pace})
		p := New(o)
		appendSized(t, st, nil, "slow", records, bodySize)
		p.Start([]string{"slow"})
		defer p.Stop()
		want := (records + batchRecords - 1) / batchRecords
		// The pusher counts a batch after the destination answered it (and
		// the position moved): wait for both.
		require.Eventually(t, func() bool {
			return len(seen.accepted("/slow")) == want && p.Records.Load() == int64(records)
		}, 30*time.Second, 5*time.Millisecond)
		return seen.accepted("/slow"), p.Bytes.Load(), p.Paced(10)
	}
	// The waits are counted, for that tenant.
	counted := func(t *testing.T, waits []TenantWaits) {
		require.Len(t, waits, 1)
		require.Equal(t, "slow", waits[0].Tenant)
		require.Positive(t, waits[0].PaceWaits)
		require.Positive(t, waits[0].Pace)
		require.Zero(t, waits[0].RetryAfterWaits)
	}

	t.Run("requests", func(t *testing.T) {
		const perSecond, burst, n = 20, 2, 30
		acc, _, waits := run(t, Pace{MaxRequestsPerSecond: perSecond, Burst: burst}, n, 10, 1)
		took := acc[len(acc)-1].Sub(acc[0])
		floor := time.Duration(float64(n-burst) / perSecond * float64(time.Second))
		t.Logf("%d pushes at %d/s, burst %d: %v (floor %v)", n, perSecond, burst, took, floor)
		require.GreaterOrEqual(t, took, floor-slack)
		counted(t, waits)
	})

	t.Run("bytes", func(t *testing.T) {
		// 40 records of ~1 KiB, two a batch: ~40 KiB at 16 KiB/s, a
		// bucket of one second's worth (a batch is smaller).
		const perSecond = 16 << 10
		acc, bytes, waits := run(t, Pace{MaxBytesPerSecond: perSecond}, 40, 1000, 2)
		took := acc[len(acc)-1].Sub(acc[0])
		floor := time.Duration(float64(bytes-perSecond) / perSecond * float64(time.Second))
		t.Logf("%d bytes in %d pushes at %d B/s: %v (floor %v)", bytes, len(acc), perSecond, took, floor)
		require.Greater(t, floor, time.Second)
		require.GreaterOrEqual(t, took, floor-slack)
		counted(t, waits)
	})
}

// A tenant waiting for its pace holds no worker: with one worker, an
// unpaced tenant's whole backlog goes while the paced one is still
// sending its own at two a second.
func TestPaceWaitHoldsNoWorker(t *testing.T) {
	seen := newArrivals()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.add(r.URL.Path, http.StatusNoContent)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	defer st.Close()
	jt := table(t, fmt.Sprintf(`
jobs:
  - {name: slow, tenant: slow, destination: {type: http, url: %q}, batch: {max_records: 1, max_interval: 10ms}}
  - {name: fast, tenant: fast, destination: {type: http, url: %q}, batch: {max_records: 1, max_interval: 10ms}}
`, srv.URL+"/slow", srv.URL+"/fast"))
	o := pusherOptions(t, st, jt, t.TempDir())
	o.Workers = 1
	o.Pace = pacedBy(map[string]Pace{"slow": {MaxRequestsPerSecond: 2}})
	p := New(o)
	appendRecords(t, st, nil, "slow", 0, 5)
	appendRecords(t, st, nil, "fast", 0, 100)
	p.Start([]string{"slow", "fast"})
	defer p.Stop()
	require.Eventually(t, func() bool { return len(seen.accepted("/slow")) == 5 && len(seen.accepted("/fast")) == 100 },
		30*time.Second, 5*time.Millisecond)
	slow, fast := seen.accepted("/slow"), seen.accepted("/fast")
	t.Logf("slow: 5 pushes in %v; fast: 100 pushes in %v", slow[4].Sub(slow[0]), fast[99].Sub(fast[0]))
	require.GreaterOrEqual(t, slow[4].Sub(slow[0]), 2*time.Second-150*time.Millisecond) // (5-1)/2 s
	require.True(t, fast[99].Before(slow[4]), "the unpaced tenant waited behind the paced one's pace")
}

// A 429 with Retry-After: 2 keeps that tenant's next push back at least
// two seconds, while another tenant, with the only worker, pushes its
// backlog meanwhile at full speed: the wait holds no worker.
func TestRetryAfterDelaysOnlyThatTenant(t *testing.T) {
	seen := newArrivals()
	var throttled atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusNoContent
		if r.URL.Path == "/a" && throttled.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "2")
			code = http.StatusTooManyRequests
		}
		seen.add(r.URL.Path, code) // before the answer: the wait runs from after it
		w.WriteHeader(code)
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	defer st.Close()
	jt := table(t, fmt.Sprintf(`
jobs:
  - {name: a, tenant: a, destination: {type: http, url: %q}, batch: {max_records: 1, max_interval: 10ms}}
  - {name: b, tenant: b, destination: {type: http, url: %q}, batch: {max_records: 1, max_interval: 10ms}}
`, srv.URL+"/a", srv.URL+"/b"))
	o := pusherOptions(t, st, jt, t.TempDir())
	o.Workers = 1
	o.MaxRetryAfter = time.Minute // these options' backoff bounds (the default cap) are shorter than 2 s
	p := New(o)
	p.Start(nil)
	defer p.Stop()
	appendRecords(t, st, p, "a", 0, 3)
	require.Eventually(t, func() bool { _, codes := seen.all("/a"); return len(codes) >= 1 }, 10*time.Second, time.Millisecond)
	appendRecords(t, st, p, "b", 0, 200)

	require.Eventually(t, func() bool { return len(seen.accepted("/a")) == 3 && len(seen.accepted("/b")) == 200 },
		30*time.Second, 5*time.Millisecond)
	times, codes := seen.all("/a")
	require.Equal(t, []int{429, 204, 204, 204}, codes)
	gap := times[1].Sub(times[0])
	require.GreaterOrEqual(t, gap, 2*time.Second, "the tenant's next push came before its Retry-After")
	duringWait := 0
	for _, bt := range seen.accepted("/b") {
		if bt.After(times[0]) && bt.Before(times[1]) {
			duringWait++
		}
	}
	t.Logf("a waited %v after its 429; b pushed %d batches meanwhile", gap, duringWait)
	require.GreaterOrEqual(t, duringWait, 20, "the other tenant was held back while a waited")
	require.Equal(t, int64(1), p.RetryAfterHonoured.Load())
	require.Zero(t, p.RetryAfterCapped.Load()+p.RetryAfterIgnored.Load())
	waits := p.Paced(10)
	require.Len(t, waits, 1)
	require.Equal(t, TenantWaits{Tenant: "a", RetryAfter: 2 * time.Second, RetryAfterWaits: 1}, waits[0])
	require.Equal(t, int64(1), p.Failures()["http_429"])
}

// A hostile or broken Retry-After neither parks the tenant for long nor
// goes uncounted: a huge delay or a far date waits the cap; a negative,
// fractional or garbage one is ignored (backoff only); a header too large
// to read fails the request as a connection error would. In every case
// the backlog is delivered.
func TestHostileRetryAfterCappedOrIgnored(t *testing.T) {
	const limit = 400 * time.Millisecond
	for _, tc := range []struct {
		name, value string
		outcome     string // "" : not a Retry-After outcome (the response did not read)
		wait        time.Duration
	}{
		{"huge delay", "99999999999999999999999999999999", RetryAfterCapped, limit},
		{"far date", "Fri, 31 Dec 9999 23:59:59 GMT", RetryAfterCapped, limit},
		{"negative", "-5", RetryAfterIgnored, 0},
		{"fraction", "1.5", RetryAfterIgnored, 0},
		{"garbage", "soon, promise", RetryAfterIgnored, 0},
		{"long garbage", strings.Repeat("z", 8<<10), RetryAfterIgnored, 0},
		{"header too large", strings.Repeat("9", 100<<10), "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := newArrivals()
			var once atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				code := http.StatusNoContent
				if once.CompareAndSwap(false, true) {
					w.Header().Set("Retry-After", tc.value)
					code = http.StatusServiceUnavailable
				}
				seen.add(r.URL.Path, code)
				w.WriteHeader(code)
			}))
			defer srv.Close()
			st := openStore(t, t.TempDir())
			defer st.Close()
			jt := table(t, fmt.Sprintf("jobs:\n  - {name: h, tenant: h, destination: {type: http, url: %q}, batch: {max_records: 1, max_interval: 10ms}}\n", srv.URL+"/h"))
			o := pusherOptions(t, st, jt, t.TempDir())
			o.MaxRetryAfter = limit
			p := New(o)
			p.Start(nil)
			defer p.Stop()
			appendRecords(t, st, p, "h", 0, 3)
			require.Eventually(t, func() bool { return len(seen.accepted("/h")) == 3 }, 20*time.Second, 5*time.Millisecond)

			got := map[string]int64{RetryAfterHonoured: p.RetryAfterHonoured.Load(),
				RetryAfterCapped: p.RetryAfterCapped.Load(), RetryAfterIgnored: p.RetryAfterIgnored.Load()}
			want := map[string]int64{RetryAfterHonoured: 0, RetryAfterCapped: 0, RetryAfterIgnored: 0}
			if tc.outcome != "" {
				want[tc.outcome] = 1
			}
			require.Equal(t, want, got)
			times, _ := seen.all("/h")
			if tc.outcome == "" {
				require.Equal(t, int64(1), p.Failures()["error"])
				return
			}
			require.Equal(t, int64(1), p.Failures()["http_503"])
			var waited time.Duration
			if w := p.Paced(1); len(w) == 1 {
				waited = w[0].RetryAfter
			}
			require.Equal(t, tc.wait, waited)
			require.GreaterOrEqual(t, times[1].Sub(times[0]), tc.wait)
		})
	}
}

// Retry-After values, both forms, and what becomes of them; reading a
// hostile one allocates nothing.
func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	const limit = 10 * time.Minute
	header := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	for _, tc := range []struct {
		value   string
		wait    time.Duration
		outcome string
	}{
		{"2", 2 * time.Second, RetryAfterHonoured},
		{"0", 0, RetryAfterHonoured},
		{"600", limit, RetryAfterHonoured},
		{"601", limit, RetryAfterCapped},
		{"18446744073709551616", limit, RetryAfterCapped},
		{"Wed, 02 Dec 2026 12:00:30 GMT", 30 * time.Second, RetryAfterHonoured},
		{"Wed, 02 Dec 2026 11:00:00 GMT", 0, RetryAfterHonoured}, // past: no wait
		{"Wed, 02 Dec 2026 13:00:00 GMT", limit, RetryAfterCapped},
		{"Wednesday, 02-Dec-26 12:01:00 GMT", time.Minute, RetryAfterHonoured}, // RFC 850
		{"Wed Dec  2 12:00:05 2026", 5 * time.Second, RetryAfterHonoured},      // asctime
		{"Fri, 31 Dec 9999 23:59:59 GMT", limit, RetryAfterCapped},
		{"Wed, 02 Dec 2026 25:00:00 GMT", 0, RetryAfterIgnored},
		{"-1", 0, RetryAfterIgnored},
		{"+1", 0, RetryAfterIgnored},
		{"1.5", 0, RetryAfterIgnored},
		{"", 0, RetryAfterIgnored},
		{"2 seconds", 0, RetryAfterIgnored},
	} {
		d, outcome := parseRetryAfter(header(tc.value)).wait(now, limit)
		require.Equal(t, tc.outcome, outcome, "%q", tc.value)
		require.Equal(t, tc.wait, d, "%q", tc.value)
	}
	d, outcome := parseRetryAfter(http.Header{}).wait(now, limit)
	require.Zero(t, d)
	require.Empty(t, outcome)

	for _, v := range []string{"99999999999999999999999999", "Wed, 02 Dec 2026 12:00:30 GMT", strings.Repeat("9", 1<<20),
		strings.Repeat("x", 1<<20), "-1", "soon, promise, really, we are nearly done"} {
		h := header(v)
		allocs := testing.AllocsPerRun(20, func() { _, _ = parseRetryAfter(h).wait(now, limit) })
		require.Zero(t, allocs, "%.20q", v)
	}
}

// The pace lives in the tenant's state: made on the first push of a paced
// job only, rebuilt when the job's pace changes, and forgotten with the
// tenant (its buffer deleted).
func TestPacerLifecycle(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	defer st.Close()
	jt := table(t, fmt.Sprintf(`
jobs:
  - {name: paced, prefix: p-, destination: {type: http, url: %q}, batch: {max_records: 1, max_interval: 10ms}}
  - {name: free, prefix: f-, destination: {type: http, url: %q}, batch: {max_records: 1, max_interval: 10ms}}
`, srv.URL, srv.URL))
	var pace atomic.Value
	pace.Store(Pace{MaxRequestsPerSecond: 50, Burst: 1})
	o := pusherOptions(t, st, jt, t.TempDir())
	o.Pace = func(j *jobs.Job) Pace {
		if j.Name == "paced" {
			return pace.Load().(Pace)
		}
		return Pace{}
	}
	p := New(o)
	p.Start(nil)
	defer p.Stop()
	appendRecords(t, st, p, "p-1", 0, 5)
	appendRecords(t, st, p, "f-1", 0, 5)
	require.Eventually(t, func() bool { return p.Records.Load() == 10 }, 10*time.Second, 5*time.Millisecond)
	pacerOf := func(tenant string) *pacer {
		p.mu.Lock()
		defer p.mu.Unlock()
		if s, ok := p.tenants[tenant]; ok {
			return s.pacer
		}
		return nil
	}
	first := pacerOf("p-1")
	require.NotNil(t, first)
	require.Nil(t, pacerOf("f-1"), "a job without a pace has no limiter")

	pace.Store(Pace{MaxRequestsPerSecond: 100, Burst: 1})
	appendRecords(t, st, p, "p-1", 5, 1)
	require.Eventually(t, func() bool { return p.Records.Load() == 11 }, 10*time.Second, 5*time.Millisecond)
	second := pacerOf("p-1")
	require.NotSame(t, first, second)
	require.Equal(t, 100.0, second.pace.MaxRequestsPerSecond)

	require.NoError(t, st.DeleteTenant("p-1"))
	p.Notify("p-1", 1)
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		_, known := p.tenants["p-1"]
		_, paced := p.paced["p-1"]
		return !known && !paced
	}, 10*time.Second, 5*time.Millisecond)
	for _, w := range p.Paced(10) {
		require.NotEqual(t, "p-1", w.Tenant)
	}
}

// Paces that bound nothing, or that no rate can mean, do not pace; the
// waits the pacer computes match the limiter's arithmetic.
func TestPacerArithmetic(t *testing.T) {
	for _, pace := range []Pace{{}, {MaxRequestsPerSecond: -1}, {MaxBytesPerSecond: -5}, {Burst: 10}} {
		require.False(t, pace.normalized().paces(), "%+v", pace)
	}
	now := time.Unix(1000, 0)
	pc := newPacer("j", Pace{MaxRequestsPerSecond: 4, MaxBytesPerSecond: 1000, Burst: 2}.normalized())
	for range 2 { // the burst
		require.Zero(t, pc.wait(now, 100))
		pc.take(now, 100)
	}
	// The third request waits a quarter of a second.
	require.Equal(t, 250*time.Millisecond, pc.wait(now, 100))
	now = now.Add(250 * time.Millisecond)
	require.Zero(t, pc.wait(now, 100))
	// 800 bytes spent of a 1000-byte bucket (plus 250 refilled): a batch
	// of 3000 needs the bucket full, then leaves it 2000 in debt.
	pc.take(now, 100)
	now = now.Add(time.Second)
	require.Zero(t, pc.wait(now, 3000))
	pc.take(now, 3000)
	require.Equal(t, 3000, pc.bytes.Burst())
	require.Equal(t, 2001*time.Millisecond, pc.wait(now, 1))
	// A rate too slow to mean anything still waits a bounded time.
	slow := newPacer("j", Pace{MaxRequestsPerSecond: 1e-300}.normalized())
	slow.take(now, 0)
	require.Equal(t, maxPaceWait, slow.wait(now, 0))
}

// The pusher forgets a tenant (its pace and waits with it) once the store
// removed its buffer, pushed and idle, so that tenants that come and go do
// not pile up state; one that comes back is pushed as before. A tenant
// still failing, or with records to push, is kept.
func TestGoneTenantsForgotten(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	st, err := buffers.Open(buffers.Options{
		Dir: t.TempDir(), MaxBuffers: buffers.Unlimited, MaxTenantBytes: buffers.Unlimited, MaxTotalBytes: buffers.Unlimited,
		MaxAge: time.Hour, SegmentBytes: 1 << 20, SegmentMaxAge: time.Hour, MaxRecordBytes: 1 << 20,
		MaxOpenFiles: 64, IdleTimeout: 50 * time.Millisecond, SweepInterval: 20 * time.Millisecond, Consumers: []string{"push"},
	})
	require.NoError(t, err)
	defer st.Close()
	jt := table(t, fmt.Sprintf(`
jobs:
  - {name: paced, prefix: p-, destination: {type: http, url: %q}, batch: {max_records: 1, max_interval: 10ms}}
  - {name: free, prefix: f-, destination: {type: http, url: %q}, batch: {max_records: 1, max_interval: 10ms}}
  - {name: down, tenant: down, destination: {type: http, url: %q}, batch: {max_records: 1, max_interval: 10ms}}
`, srv.URL+"/ok", srv.URL+"/ok", srv.URL+"/down"))
	o := pusherOptions(t, st, jt, t.TempDir())
	o.DeadLetterSweep = 20 * time.Millisecond
	o.Pace = pacedBy(map[string]Pace{"paced": {MaxRequestsPerSecond: 100, Burst: 1}})
	p := New(o)
	p.Start(nil)
	defer p.Stop()
	known := func(tenant string) bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		_, ok := p.tenants[tenant]
		return ok
	}
	appendRecords(t, st, p, "down", 0, 2)
	for round := range 2 {
		for i := range 20 {
			appendRecords(t, st, p, fmt.Sprintf("p-%d", i), round, 2)
			appendRecords(t, st, p, fmt.Sprintf("f-%d", i), round, 2)
		}
		require.Eventually(t, func() bool { return p.Records.Load() == int64(80*(round+1)) }, 20*time.Second, 5*time.Millisecond)
		require.Eventually(t, func() bool {
			for i := range 20 {
				if known(fmt.Sprintf("p-%d", i)) || known(fmt.Sprintf("f-%d", i)) {
					return false
				}
			}
			return true
		}, 20*time.Second, 5*time.Millisecond, "round %d: tenants whose buffers went are still known", round)
		require.Empty(t, p.Paced(100))
		require.True(t, known("down"), "a failing tenant was forgotten")
	}
}

func TestPaceComesFromTheJobDocument(t *testing.T) {
	// Without Options.Pace the pusher paces each job as its document says.
	p := New(Options{})
	j := &jobs.Job{Destination: jobs.Destination{Pace: jobs.Pace{MaxRequestsPerSecond: 5, MaxBytesPerSecond: 1 << 20, Burst: 10}}}
	if got := p.o.Pace(j); got != (Pace{MaxRequestsPerSecond: 5, MaxBytesPerSecond: 1 << 20, Burst: 10}) {
		t.Fatalf("pace %+v", got)
	}
}
