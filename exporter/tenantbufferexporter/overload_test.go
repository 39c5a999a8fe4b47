package tenantbufferexporter_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// overloadScale is the incident in small (go test) or in full (make
// overload-test sets TENANTBUFFER_OVERLOAD=full): the tenant set jumps 40x
// within seconds, well past the buffer cap.
type overloadScale struct {
	before, after, maxBuffers, rounds int
	heapBound                         uint64
}

func overloadSize() overloadScale {
	if os.Getenv("TENANTBUFFER_OVERLOAD") == "full" {
		return overloadScale{before: 1000, after: 40000, maxBuffers: 2000, rounds: 6, heapBound: 64 << 20}
	}
	return overloadScale{before: 250, after: 10000, maxBuffers: 500, rounds: 3, heapBound: 64 << 20}
}

// TestOverloadTenantSpike runs a whole collector (OTLP receiver ->
// tenantbuffer exporter, health_check, Prometheus self-metrics), sends
// records for `before` tenants, then for 40 times as many, and checks
// throughout that health check and metrics answer within 1 s, that the heap
// stays under the bound, that the buffer cap holds, and at the end that
// every admitted tenant kept every record and every other record was
// counted as refused.
func TestOverloadTenantSpike(t *testing.T) {
	sc := overloadSize()
	dir := t.TempDir()
	otlpAddr := testutil.FreeTCPAddr(t)
	healthAddr := testutil.FreeTCPAddr(t)
	metricsAddr := testutil.FreeTCPAddr(t)
	_, metricsPort, _ := strings.Cut(metricsAddr, ":")
	col := collectortest.Start(t, fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
exporters:
  tenantbuffer:
    directory: %s
    limits:
      max_buffers: %d
    consumers: [check]
    sweep_interval: 500ms
extensions:
  health_check:
    endpoint: %s
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %s
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [tenantbuffer]
`, otlpAddr, dir, sc.maxBuffers, healthAddr, metricsPort))

	// The prober: both endpoints, every 50 ms, each answer within 1 s.
	probeCtx, stopProbe := context.WithCancel(context.Background())
	var probeWG sync.WaitGroup
	var probeMu sync.Mutex
	var probeErrs []string
	var probes int
	var slowest time.Duration
	var maxBuffersSeen int64
	var peakHeap uint64
	client := &http.Client{Timeout: time.Second}
	probeWG.Add(1)
	go func() {
		defer probeWG.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-probeCtx.Done():
				return
			case <-tick.C:
			}
			for _, url := range []string{"http://" + healthAddr + "/", "http://" + metricsAddr + "/metrics"} {
				start := time.Now()
				body, err := get(client, url)
				took := time.Since(start)
				probeMu.Lock()
				probes++
				slowest = max(slowest, took)
				if err != nil || took > time.Second {
					probeErrs = append(probeErrs, fmt.Sprintf("%s: %v after %v", url, err, took))
				}
				if n, ok := promValue(body, "otelcol_logx_tenantbuffer_buffers", ""); ok {
					maxBuffersSeen = max(maxBuffersSeen, int64(n))
				}
				probeMu.Unlock()
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			probeMu.Lock()
			peakHeap = max(peakHeap, ms.HeapInuse)
			probeMu.Unlock()
		}
	}()

	conn, err := grpc.NewClient(otlpAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client2 := plogotlp.NewGRPCClient(conn)
	sent := map[string]int{}
	var sentTotal int
	send := func(tenants int, round int) {
		const perRequest = 2000
		for start := 0; start < tenants; start += perRequest {
			ld := plog.NewLogs()
			sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
			for i := start; i < min(start+perRequest, tenants); i++ {
				name := fmt.Sprint("tenant-", i)
				lr := sl.LogRecords().AppendEmpty()
				lr.Attributes().PutStr(logattr.Tenant, name)
				lr.Body().SetStr(fmt.Sprintf("%s round %d", name, round))
				sent[name]++
				sentTotal++
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := client2.Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
			cancel()
			if err != nil {
				t.Fatalf("export: %v", err)
			}
		}
	}
	spikeStart := time.Now()
	for r := range sc.rounds {
		send(sc.before, r)
	}
	for r := range sc.rounds {
		send(sc.after, sc.rounds+r)
	}
	spike := time.Since(spikeStart)
	// One more scrape after the last write: the counters must add up.
	body, err := get(client, "http://"+metricsAddr+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	stopProbe()
	probeWG.Wait()
	accepted, _ := promValue(body, "otelcol_logx_tenantbuffer_records_accepted", "")
	refusedCap, _ := promValue(body, "otelcol_logx_tenantbuffer_records_refused", `reason="max_buffers"`)
	refusedAll, _ := promValue(body, "otelcol_logx_tenantbuffer_records_refused", "")
	if err := col.Shutdown(); err != nil {
		t.Fatal(err)
	}

	probeMu.Lock()
	defer probeMu.Unlock()
	t.Logf("tenants %d -> %d in %v; %d probes, slowest %v; peak heap in use %d MiB; buffers seen %d (cap %d); records sent %d, accepted %.0f, refused %.0f (max_buffers %.0f)",
		sc.before, sc.after, spike.Round(time.Millisecond), probes, slowest, peakHeap>>20, maxBuffersSeen, sc.maxBuffers, sentTotal, accepted, refusedAll, refusedCap)
	if len(probeErrs) > 0 {
		t.Fatalf("collector not responsive: %d of %d probes failed, first: %s", len(probeErrs), probes, probeErrs[0])
	}
	if probes < 4 {
		t.Fatalf("only %d probes ran", probes)
	}
	if peakHeap > sc.heapBound {
		t.Fatalf("heap in use peaked at %d MiB, bound %d MiB", peakHeap>>20, sc.heapBound>>20)
	}
	if maxBuffersSeen > int64(sc.maxBuffers) {
		t.Fatalf("buffer cap broken: %d buffers, cap %d", maxBuffersSeen, sc.maxBuffers)
	}
	if int(accepted+refusedAll) != sentTotal || refusedCap == 0 || refusedAll != refusedCap {
		t.Fatalf("records unaccounted for: sent %d, accepted %.0f + refused %.0f", sentTotal, accepted, refusedAll)
	}

	// Every tenant admitted before the spike kept all its records; no more
	// buffers exist than the cap allows.
	cfg := tenantbufferexporter.NewFactory().CreateDefaultConfig().(*tenantbufferexporter.Config)
	cfg.Directory = dir
	cfg.Consumers = []string{"check"}
	cfg.Limits.MaxBuffers = sc.maxBuffers
	st, err := buffers.Open(tenantbufferexporter.StoreOptions(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := st.Stats().Buffers; n > int64(sc.maxBuffers) {
		t.Fatalf("%d buffers on disk, cap %d", n, sc.maxBuffers)
	}
	var kept int
	for i := range sc.after {
		name := fmt.Sprint("tenant-", i)
		n := countRecords(t, st, name)
		kept += n
		if i < sc.before && n != sent[name] {
			t.Fatalf("admitted %s kept %d of %d records", name, n, sent[name])
		}
	}
	if kept != int(accepted) {
		t.Fatalf("buffers hold %d records, %0.f were accepted", kept, accepted)
	}
}

func countRecords(t *testing.T, st *buffers.Store, tenant string) int {
	var n int
	var from uint64
	for {
		recs, err := st.ReadAt(tenant, from, 10000, 64<<20)
		if err != nil || len(recs) == 0 {
			return n
		}
		n += len(recs)
		from = recs[len(recs)-1].Next
	}
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), nil
}

// promValue sums the samples of a metric family in Prometheus text whose
// labels contain match ("" matches all). Names may carry a suffix the
// exporter adds (_total, a unit).
func promValue(body, name, match string) (float64, bool) {
	var sum float64
	found := false
	s := bufio.NewScanner(strings.NewReader(body))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, name) || !strings.Contains(line, match) {
			continue
		}
		rest := line[len(name):]
		if rest != "" && rest[0] != '{' && rest[0] != ' ' && rest[0] != '_' {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		sum += v
		found = true
	}
	return sum, found
}
