package tenantbufferexporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

func countFiles(dir string) int {
	n := 0
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(p, ".ndjson") && !strings.Contains(filepath.Base(p), ".tmp") {
			n++
		}
		return nil
	})
	return n
}

// TestIncidentBlankJobConfig replays the incident: the job config source
// starts serving a blank document while upstream fails open and sends every
// tenant's logs. The exporter must refuse the blank config (counted), keep
// pushing for the configured tenants, admit no new tenant, and keep its
// buffers, memory and CPU per round flat.
func TestIncidentBlankJobConfig(t *testing.T) {
	out := t.TempDir()
	const configured = 10
	var good strings.Builder
	good.WriteString("jobs:\n")
	for i := range configured {
		fmt.Fprintf(&good, "  - {name: j%d, tenant: tenant-%d, destination: {type: file, path: %s}, batch: {max_records: 50, max_interval: 100ms}}\n", i, i, out)
	}
	var doc atomic.Value
	doc.Store(good.String())
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		fmt.Fprint(w, doc.Load().(string))
	}))
	defer srv.Close()

	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	cfg := testConfig(t.TempDir())
	cfg.Consumers = nil
	cfg.Push.JobsURL = srv.URL
	cfg.Push.Destinations.FileRoot = out
	cfg.Push.ReloadInterval = 20 * time.Millisecond
	cfg.Push.BackoffInitial = 10 * time.Millisecond
	_, e := startExporter(t, cfg, tel)
	st := e.Store()

	// Every round, upstream sends for the configured tenants and, failing
	// open, for 2,000 others.
	tenants := make([]string, 0, configured+2000)
	for i := range configured + 2000 {
		tenants = append(tenants, fmt.Sprint("tenant-", i))
	}
	round := func() {
		for start := 0; start < len(tenants); start += 500 {
			if err := e.consumeLogs(context.Background(), makeLogs(tenants[start:min(start+500, len(tenants))], 2)); err != nil {
				t.Fatal(err)
			}
		}
	}
	measure := func(rounds int) (cpu time.Duration, heap uint64) {
		c0 := testutil.ProcessCPU()
		for range rounds {
			round()
		}
		cpu = testutil.ProcessCPU() - c0
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return cpu, ms.HeapInuse
	}
	cpuBefore, heapBefore := measure(5)
	buffersBefore := st.Stats().Buffers
	if buffersBefore != configured {
		t.Fatalf("%d buffers with %d jobs", buffersBefore, configured)
	}
	testutil.WaitFor(t, 15*time.Second, "first pushes", func() bool { return countFiles(out) >= configured })

	// The incident: the config source serves a blank document.
	doc.Store("")
	f0 := fetches.Load()
	testutil.WaitFor(t, 15*time.Second, "blank config fetched and refused", func() bool {
		return fetches.Load() >= f0+3 && sumCounter(t, tel, "otelcol_logx_tenantbuffer_job_reloads_refused", "blank") >= 3
	})
	filesBefore := countFiles(out)
	cpuAfter, heapAfter := measure(5)
	// Pushing goes on for the configured tenants.
	testutil.WaitFor(t, 15*time.Second, "pushes after the blank config", func() bool { return countFiles(out) >= filesBefore+configured })
	st.Sweep()
	stats := st.Stats()
	t.Logf("buffers %d -> %d; heap in use %d -> %d KiB; CPU per 5 rounds %v -> %v; refused no_job %d",
		buffersBefore, stats.Buffers, heapBefore>>10, heapAfter>>10, cpuBefore, cpuAfter,
		sumCounter(t, tel, "otelcol_logx_tenantbuffer_records_refused", "no_job"))
	if stats.Buffers != buffersBefore {
		t.Fatalf("buffers grew from %d to %d", buffersBefore, stats.Buffers)
	}
	if e.push.holder.Table().Len() != configured {
		t.Fatal("last good job config not kept")
	}
	if heapAfter > heapBefore+16<<20 {
		t.Fatalf("heap grew from %d to %d KiB", heapBefore>>10, heapAfter>>10)
	}
	if cpuAfter > 2*cpuBefore+200*time.Millisecond {
		t.Fatalf("CPU per round grew from %v to %v", cpuBefore, cpuAfter)
	}
	// Config comes back, with one tenant more: it is admitted.
	doc.Store(good.String() + fmt.Sprintf("  - {name: new, tenant: tenant-%d, destination: {type: file, path: %s}}\n", configured, out))
	testutil.WaitFor(t, 15*time.Second, "the repaired config", func() bool { return e.push.holder.Table().Len() == configured+1 })
	round()
	if n := st.Stats().Buffers; n != configured+1 {
		t.Fatalf("%d buffers after the new job", n)
	}
}
