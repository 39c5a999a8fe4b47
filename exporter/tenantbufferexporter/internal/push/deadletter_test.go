package push

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// diskBytes adds up the sizes of the files under dir, and counts the
// records (lines) of its batch files.
func diskBytes(t *testing.T, dir string) (bytes, records int64) {
	t.Helper()
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		bytes += info.Size()
		if strings.HasSuffix(p, ".ndjson") {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			records += int64(strings.Count(string(b), "\n"))
		}
		return nil
	}))
	return bytes, records
}

// One tenant's credentials expire (its destination answers 401 for ever)
// beside a healthy tenant, and two tenants whose destination rejects every
// batch for good (413, 400) keep filling the dead-letter area.
//
//   - The healthy tenant gets every record, in order.
//   - The 401 tenant loses nothing and parks nothing: its breaker opens at
//     the first 401, its records stay in its buffer, and it is tried again
//     every breaker_open.
//   - The dead-letter area stays under its caps (per tenant and in total),
//     the oldest letters going first; parked = held + removed, by reason.
func TestExpiredCredentialsRetriedAndDeadLettersCapped(t *testing.T) {
	var mu sync.Mutex
	var healthy []string
	var unauthorized atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/expired":
			unauthorized.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
		case "/huge":
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		case "/bad":
			w.WriteHeader(http.StatusBadRequest)
		default:
			sc := bufio.NewScanner(r.Body)
			var u plog.JSONUnmarshaler
			mu.Lock()
			for sc.Scan() {
				ld, err := u.UnmarshalLogs(sc.Bytes())
				if err != nil {
					t.Errorf("healthy body: %v", err)
					continue
				}
				healthy = append(healthy, ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
			}
			mu.Unlock()
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	var doc strings.Builder
	doc.WriteString("jobs:\n")
	for _, name := range []string{"healthy", "expired", "huge", "bad"} {
		fmt.Fprintf(&doc, "  - {name: %s, tenant: %s, destination: {type: http, url: %q}, batch: {max_records: 10, max_interval: 20ms}}\n",
			name, name, srv.URL+"/"+name)
	}
	st := openStore(t, t.TempDir())
	defer st.Close()
	deadDir := t.TempDir()
	// A letter of 10 records is about 1.3 KiB: the tenant cap holds a few
	// of them, the total cap a few more.
	const tenantCap, totalCap = 6 << 10, 10 << 10
	dl, err := OpenDeadLetters(DeadLetterOptions{Dir: deadDir, MaxBytes: totalCap, MaxTenantBytes: tenantCap, NoSync: true})
	require.NoError(t, err)
	o := pusherOptions(t, st, table(t, doc.String()), t.TempDir())
	o.DeadLetters = dl
	o.BreakerFailures, o.BreakerOpen = 5, 200*time.Millisecond
	p := New(o)
	p.Start(nil)
	defer p.Stop()

	appendRecords(t, st, p, "expired", 0, 50)
	appendRecords(t, st, p, "huge", 0, 300)
	appendRecords(t, st, p, "bad", 0, 100)
	appendRecords(t, st, p, "healthy", 0, 200)

	// The first 401 opens the breaker at once (not after five tries).
	require.Eventually(t, func() bool {
		_, worst := p.States(10)
		return len(worst) > 0 && worst[0].Tenant == "expired" && worst[0].State == StateBreakerOpen
	}, 10*time.Second, 5*time.Millisecond)
	require.LessOrEqual(t, unauthorized.Load(), int64(2), "a 401 opens the breaker at the first answer")

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(healthy) == 200 && dl.ParkedRecords.Load() == 400
	}, 20*time.Second, 10*time.Millisecond)
	mu.Lock()
	for i, b := range healthy {
		require.Equal(t, fmt.Sprintf("healthy-%06d", i), b)
	}
	mu.Unlock()

	// Tried again behind the breaker, never parked, nothing lost.
	require.Eventually(t, func() bool { return unauthorized.Load() >= 3 }, 10*time.Second, 10*time.Millisecond)
	lag, err := p.LagOf("expired")
	require.NoError(t, err)
	require.Equal(t, int64(50), lag.Records, "the 401 tenant's records stay in its buffer")
	_, err = os.Stat(filepath.Join(deadDir, "expired"))
	require.True(t, os.IsNotExist(err), "nothing of the 401 tenant is parked")
	counts, _ := p.States(10)
	require.Equal(t, 1, counts[StateBreakerOpen])
	require.GreaterOrEqual(t, p.Failures()["http_401"], int64(3))

	// Dead letters: under both caps, accounted for to the byte and record.
	s := dl.Stats()
	onDisk, held := diskBytes(t, deadDir)
	require.Equal(t, onDisk, dl.Bytes(), "Bytes is what the area holds on disk")
	require.LessOrEqual(t, dl.Bytes(), int64(totalCap))
	require.LessOrEqual(t, s.LargestTenantBytes, int64(tenantCap))
	require.Positive(t, s.RemovedRecords[RemovedTenantBytes])
	require.Positive(t, s.RemovedRecords[RemovedTotalBytes])
	require.Equal(t, int64(400), held+s.RemovedRecords[RemovedTenantBytes]+s.RemovedRecords[RemovedTotalBytes],
		"every parked record is held or counted as removed")
	require.Equal(t, dl.ParkedBytes.Load(), onDisk+s.RemovedBytes[RemovedTenantBytes]+s.RemovedBytes[RemovedTotalBytes])
	// The newest letters are the ones kept.
	bad, _ := readDir(t, filepath.Join(deadDir, "bad"))
	require.NotEmpty(t, bad)
	require.Equal(t, "bad-000099", bad[len(bad)-1])
}

// After a restart the area knows what it holds (bytes, oldest letters
// first, records from the notes), removes what a crash left half written,
// and expires letters past their age (counted).
func TestDeadLettersRestartAndRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	clock := func() time.Time { return now }
	dl, err := OpenDeadLetters(DeadLetterOptions{Dir: dir, MaxAge: time.Hour, NoSync: true, Now: clock})
	require.NoError(t, err)
	st := openStore(t, t.TempDir())
	defer st.Close()
	appendRecords(t, st, nil, "a", 0, 30)
	recs, err := st.Read("a", "push", 10, 1<<20)
	require.NoError(t, err)
	require.NoError(t, dl.Park(&Batch{Tenant: "a", Records: recs}, &PermanentError{fmt.Errorf("http 400")}))
	require.NoError(t, st.Commit("a", "push", recs[len(recs)-1].Next))
	recs2, err := st.Read("a", "push", 20, 1<<20)
	require.NoError(t, err)
	// Written an hour apart: the first expires first.
	old := filepath.Join(dir, "a")
	entries, err := os.ReadDir(old)
	require.NoError(t, err)
	for _, e := range entries {
		require.NoError(t, os.Chtimes(filepath.Join(old, e.Name()), now.Add(-90*time.Minute), now.Add(-90*time.Minute)))
	}
	require.NoError(t, dl.Park(&Batch{Tenant: "a", Records: recs2}, &PermanentError{fmt.Errorf("http 413")}))
	require.NoError(t, os.WriteFile(filepath.Join(old, tmpPrefix+"00000000000000000099-00000000000000000100.ndjson"), []byte("torn"), 0o640))
	held := dl.Bytes()

	reopened, err := OpenDeadLetters(DeadLetterOptions{Dir: dir, MaxAge: 2 * time.Hour, NoSync: true, Now: clock})
	require.NoError(t, err)
	onDisk, records := diskBytes(t, dir)
	require.Equal(t, held, reopened.Bytes(), "the same bytes after a restart")
	require.Equal(t, onDisk, reopened.Bytes(), "the torn temp file is gone")
	require.Equal(t, int64(30), records)
	s := reopened.Stats()
	require.Equal(t, 2, s.Letters)
	require.GreaterOrEqual(t, s.OldestAge, 90*time.Minute)

	now = now.Add(time.Hour) // the first letter is now 2.5 h old, the second 1 h
	reopened.Sweep()
	s = reopened.Stats()
	require.Equal(t, 1, s.Letters)
	require.Equal(t, int64(10), s.RemovedRecords[RemovedExpired])
	onDisk, records = diskBytes(t, dir)
	require.Equal(t, onDisk, reopened.Bytes())
	require.Equal(t, int64(20), records)

	// The same batch parked again (a restart before its commit) replaces
	// its letter rather than counting it twice.
	require.NoError(t, reopened.Park(&Batch{Tenant: "a", Records: recs2}, &PermanentError{fmt.Errorf("http 413")}))
	onDisk, _ = diskBytes(t, dir)
	require.Equal(t, onDisk, reopened.Bytes())
	require.Equal(t, 1, reopened.Stats().Letters)
}

// A batch larger than a cap by itself is not kept (it would push out
// everything else and still not fit): removed at once, counted too_large,
// and the position may move on.
func TestDeadLetterTooLarge(t *testing.T) {
	dir := t.TempDir()
	dl, err := OpenDeadLetters(DeadLetterOptions{Dir: dir, MaxBytes: 1 << 20, MaxTenantBytes: 512, NoSync: true})
	require.NoError(t, err)
	st := openStore(t, t.TempDir())
	defer st.Close()
	appendRecords(t, st, nil, "a", 0, 20)
	recs, err := st.Read("a", "push", 20, 1<<20)
	require.NoError(t, err)
	require.NoError(t, dl.Park(&Batch{Tenant: "a", Records: recs}, &PermanentError{fmt.Errorf("http 413")}))
	require.Zero(t, dl.Bytes())
	onDisk, _ := diskBytes(t, dir)
	require.Zero(t, onDisk)
	require.Equal(t, int64(20), dl.Stats().RemovedRecords[RemovedTooLarge])
}

// HTTP statuses: which are parked, which retried, which open the breaker.
func TestHTTPStatusClasses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil {
			code = http.StatusTeapot // a path the test did not mean: an unexpected status
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	defer st.Close()
	appendRecords(t, st, nil, "a", 0, 1)
	recs, err := st.Read("a", "push", 1, 1<<20)
	require.NoError(t, err)
	for code, want := range map[int]string{
		204: "ok", 400: "parked", 413: "parked", 422: "parked",
		401: "breaker", 403: "breaker", 404: "breaker",
		408: "retried", 429: "retried", 500: "retried", 503: "retried",
	} {
		d := &HTTPDestination{URL: fmt.Sprintf("%s/%d", srv.URL, code), Client: srv.Client()}
		err := d.Push(t.Context(), &Batch{Tenant: "a", Records: recs})
		var perm *PermanentError
		var refused *SenderRefusedError
		got := "retried"
		switch {
		case err == nil:
			got = "ok"
		case errors.As(err, &perm):
			got = "parked"
		case errors.As(err, &refused):
			got = "breaker"
		}
		require.Equal(t, want, got, "http %d", code)
	}
}

// A tenant whose letters were all removed (its directory with them) parks
// again: the directory is made anew.
func TestDeadLetterTenantDirectoryMadeAgain(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, t.TempDir())
	defer st.Close()
	appendRecords(t, st, nil, "a", 0, 10)
	appendRecords(t, st, nil, "b", 0, 10)
	a, err := st.Read("a", "push", 5, 1<<20)
	require.NoError(t, err)
	b, err := st.Read("b", "push", 10, 1<<20)
	require.NoError(t, err)
	probe, err := OpenDeadLetters(DeadLetterOptions{Dir: t.TempDir(), NoSync: true})
	require.NoError(t, err)
	require.NoError(t, probe.Park(&Batch{Tenant: "b", Records: b}, &PermanentError{fmt.Errorf("http 400")}))
	// Room for b's letter alone: parking it pushes a's out.
	dl, err := OpenDeadLetters(DeadLetterOptions{Dir: dir, MaxBytes: probe.Bytes(), NoSync: true})
	require.NoError(t, err)
	require.NoError(t, dl.Park(&Batch{Tenant: "a", Records: a}, &PermanentError{fmt.Errorf("http 400")}))
	require.NoError(t, dl.Park(&Batch{Tenant: "b", Records: b}, &PermanentError{fmt.Errorf("http 400")}))
	_, err = os.Stat(filepath.Join(dir, "a"))
	require.True(t, os.IsNotExist(err), "a's directory goes with its last letter")
	require.NoError(t, dl.Park(&Batch{Tenant: "a", Records: a}, &PermanentError{fmt.Errorf("http 400")}))
	onDisk, records := diskBytes(t, dir)
	require.Equal(t, onDisk, dl.Bytes())
	require.Equal(t, int64(5), records, "a's letter is back; b's went to make room")
}
