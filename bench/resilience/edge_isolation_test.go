//go:build resilience

package resilience

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// edgeIsolationConfig is configs/edge.yaml's shape: one pipeline reads and
// processes, the fanout connector feeds one pipeline per destination (cfjs1
// to log-a and log-b; a local syslog file). The cfjs1 queue is small
// (5000 records) so that it fills within seconds, and the connector's
// backlog small (100 batches) so that it overflows too: both refusals the
// test is about happen at the short scale. The journal, FIFO, ratelimit and
// externaljson of edge.yaml are left out: they need a journal and an HTTP
// status source, the test's lines all count against one rate-limit key
// (they name no systemd unit), and none of them changes what is tested.
// The queue's storage is not fsynced, to spare the shared test machine.
var edgeIsolationConfig = edgeShapeConfig(`    path: %[1]s/syslog.sock
    framing: newline
    format: rfc3164
    peer:
      credentials: false
      systemd_unit: false
`, `    backlog:
      max_batches: 100
    retry:
      initial_interval: 20ms
      max_interval: 200ms
`, `      queue_size: 5000
`)

// TestEdgeIsolation runs the collector in edge.yaml's shape with both
// tier-2 sides down (nothing listens on their ports) while lines arrive at
// a fixed rate: 10,000 lines/s for 60 s at either scale (an edge's
// outage as the isolation model is specified, in make test too). The cfjs1 queue fills and refuses; the local file must still hold
// every line exactly once, in order, with nothing dropped by the receiver,
// and the socket writer must never wait 100 ms. What tier 2 loses is
// counted by the connector. Once log-a and log-b are back, every line not
// counted as lost reaches them, and the file still holds each line once.
//
// With both exporters in one pipeline (exporters: [cfjs1, logfile/local])
// the receiver retries every batch the queue refuses, and the file gets the
// same lines again and again.
func TestEdgeIsolation(t *testing.T) {
	binary(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "syslog.sock")
	file := filepath.Join(dir, "logs", "all.log")
	addrA := fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t)) // nothing listens: down
	addrB := fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t))
	port := testutil.FreeTCPPort(t)
	edge := startCollector(t, "edge", "", fmt.Sprintf(edgeIsolationConfig, dir, addrA, addrB, port))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	testutil.WaitFor(t, 30*time.Second, "the edge socket", func() bool { _, err := os.Stat(sock); return err == nil })

	// Phase 1: tier 2 down.
	const rate, d = 10000, 60 * time.Second
	var next uint64
	fed, slowest := feedUnixTimed(t, sock, &next, 1, rate, d)
	t.Logf("phase 1: %d lines in %s with tier 2 down; slowest socket write %s", len(fed), d, slowest)
	if slowest > 100*time.Millisecond {
		t.Errorf("a socket write waited %s: the collector blocked its writer (bound: 100ms)", slowest)
	}

	local := newFileIDs(file)
	var inFile idSet
	testutil.WaitFor(t, 60*time.Second, "every line in the local file", func() bool {
		inFile = local.read(t)
		n, _ := inFile.missing(fed)
		return n == 0
	}, func() string {
		n, first := inFile.missing(fed)
		return fmt.Sprintf("%d of %d lines missing from the file (first %x)", n, len(fed), first)
	})
	if dup := inFile.duplicates(); dup > 0 {
		t.Fatalf("the local file holds %d repeated lines while tier 2 is down", dup)
	}
	checkOrder(t, file)

	m := scrape(t, url)
	if m["otelcol_exporter_enqueue_failed_log_records"] == 0 {
		t.Fatalf("the cfjs1 queue never refused: the test did not reach the fault it is about (%v)", m)
	}
	lost := m["otelcol_logx_fanout_dropped_records"]
	if lost == 0 {
		t.Fatalf("tier 2 lost nothing with a 5000-record queue and a 100-batch backlog behind %d lines: the connector's drops are not counted (%v)", len(fed), m)
	}
	if r := m["otelcol_logx_unixsocket_dropped_records"]; r != 0 {
		t.Fatalf("the receiver dropped %.0f records: a refusing tier 2 still holds the receiver back", r)
	}
	t.Logf("tier 2 down: queue refused %.0f records, the connector counted %.0f lost for tier 2, %.0f retries",
		m["otelcol_exporter_enqueue_failed_log_records"], lost, m["otelcol_logx_fanout_retries"])

	// Tier 2 returns. Once the exporter uses both sides again and the
	// backlog is empty, every line not counted as lost is there.
	sinkA, sinkB := newAckSink(t, addrA), newAckSink(t, addrB)
	var atTier2 idSet
	var missing int
	testutil.WaitFor(t, 120*time.Second, "tier 2 to get every line of the outage not counted as lost", func() bool {
		m = scrape(t, url)
		lost = m["otelcol_logx_fanout_dropped_records"]
		atTier2 = tier2IDs(sinkA, sinkB)
		missing, _ = atTier2.missing(fed)
		return m["otelcol_logx_cfjs1_exporter_up"] == 2 && m["otelcol_logx_fanout_backlog_batches"] == 0 && float64(missing) <= lost
	}, func() string {
		return fmt.Sprintf("%d of %d lines not at tier 2, %.0f counted lost, %.0f endpoints up, %.0f batches in the backlog",
			missing, len(fed), lost, m["otelcol_logx_cfjs1_exporter_up"], m["otelcol_logx_fanout_backlog_batches"])
	})
	if float64(missing) != lost {
		t.Errorf("tier 2 misses %d lines of the outage but %.0f were counted lost: fed = delivered + counted drops does not hold", missing, lost)
	}

	// Then more lines: each reaches tier 2 and the file, none is lost.
	more, slowest := feedUnixTimed(t, sock, &next, 2, rate, 2*time.Second)
	if slowest > 100*time.Millisecond {
		t.Errorf("a socket write waited %s after tier 2 returned (bound: 100ms)", slowest)
	}
	all := append(append([]uint64(nil), fed...), more...)
	testutil.WaitFor(t, 60*time.Second, "every line written after tier 2 returned at tier 2", func() bool {
		atTier2 = tier2IDs(sinkA, sinkB)
		missing, _ = atTier2.missing(more)
		return missing == 0
	}, func() string { return fmt.Sprintf("%d of %d lines missing at tier 2", missing, len(more)) })
	if after := scrape(t, url)["otelcol_logx_fanout_dropped_records"]; after != lost {
		t.Errorf("%.0f more records counted lost after tier 2 returned", after-lost)
	}

	testutil.WaitFor(t, 60*time.Second, "the lines of phase 2 in the local file", func() bool {
		inFile = local.read(t)
		n, _ := inFile.missing(all)
		return n == 0
	})
	edge.stop()
	inFile = local.read(t)
	if dup := inFile.duplicates(); dup > 0 {
		t.Fatalf("the local file holds %d repeated lines after tier 2 returned", dup)
	}
	if len(inFile) != len(all) {
		t.Fatalf("the local file holds %d distinct lines, %d were fed", len(inFile), len(all))
	}
	checkOrder(t, file)
	t.Logf("done: %d lines fed; the file holds each once; tier 2 got %d distinct lines (%d lines received, repeats included), %.0f counted lost",
		len(all), len(atTier2), sinkA.lines.Load()+sinkB.lines.Load(), lost)
}

// feedUnixTimed writes lines to a unix stream socket at rate lines/s for d
// (10 ms slices), numbering ids from *next, and returns the ids written
// and the longest time one write took. Bounded by d.
func feedUnixTimed(t *testing.T, path string, next *uint64, phase, rate int, d time.Duration) ([]uint64, time.Duration) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	defer c.Close()
	var ids []uint64
	var slowest time.Duration
	perTick := max(1, rate/100)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	buf := make([]byte, 0, 256*perTick)
	for end := time.Now().Add(d); time.Now().Before(end); {
		<-tick.C
		buf = buf[:0]
		for range perTick {
			*next++
			ids = append(ids, *next)
			buf = append(buf, syslogLine(*next, phase)...)
		}
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		if _, err := c.Write(buf); err != nil {
			t.Fatalf("writing to %s: %v (the collector blocked or closed its socket)", path, err)
		}
		slowest = max(slowest, time.Since(start))
	}
	return ids, slowest
}

// fileIDs counts the ids of the lines of a growing file, reading only
// what was appended since the last call.
type fileIDs struct {
	path string
	off  int64
	ids  idSet
}

func newFileIDs(path string) *fileIDs { return &fileIDs{path: path, ids: idSet{}} }

// read takes in the complete lines appended since the last read (a missing
// file has none) and returns every id seen so far.
func (f *fileIDs) read(t *testing.T) idSet {
	t.Helper()
	file, err := os.Open(f.path)
	if os.IsNotExist(err) {
		return f.ids
	}
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, err := file.Seek(f.off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(file, 1<<20)
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			t.Fatalf("%s: a line longer than 1 MiB", f.path)
		}
		if err != nil {
			return f.ids // the rest is a partial line (or nothing): next time
		}
		f.off += int64(len(line))
		if id, ok := lineID(line); ok {
			f.ids[id]++
		}
	}
}

// checkOrder fails the test unless the file's ids rise line by line: one
// writer, so the file keeps its order.
func checkOrder(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var last uint64
	for n := 1; sc.Scan(); n++ {
		id, ok := lineID(sc.Bytes())
		if !ok {
			continue
		}
		if id <= last {
			t.Fatalf("line %d of the local file has id %x after %x: out of order", n, id, last)
		}
		last = id
	}
}

// tier2IDs is every id log-a or log-b got, directly or as a dead-letter
// copy for the other side.
func tier2IDs(sinks ...*ackSink) idSet {
	out := idSet{}
	for _, s := range sinks {
		direct, dead := s.snapshot()
		out.addAll(direct)
		out.addAll(dead)
	}
	return out
}

var isolationMetrics = regexp.MustCompile(`^(otelcol_logx_fanout_|otelcol_exporter_enqueue_failed_log_records|otelcol_logx_unixsocket_dropped_records|otelcol_logx_cfjs1_exporter_up)`)

// scrape reads the metrics the test checks, each summed over its
// attributes, with the _total suffix Prometheus may add taken off.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	m, err := metrics(url, isolationMetrics)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	out := map[string]float64{}
	for name, v := range m {
		out[trimTotal(name)] += v
	}
	return out
}

func trimTotal(name string) string {
	const suffix = "_total"
	if len(name) > len(suffix) && name[len(name)-len(suffix):] == suffix {
		return name[:len(name)-len(suffix)]
	}
	return name
}
