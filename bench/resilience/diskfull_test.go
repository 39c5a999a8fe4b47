//go:build resilience

package resilience

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// mountTmpfs mounts a tmpfs of the given size on a new directory, unmounted
// at cleanup (after the collectors started later are killed: cleanups run
// last-in first-out).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir)
	t.Cleanup(func() {
		if err := exec.Command("umount", dir).Run(); err != nil {
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
	return dir
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

var dropMetrics = regexp.MustCompile(`(dropped|refused|failed)`)

func sumMetrics(m map[string]float64) (total float64, desc string) {
	var names []string
	for n, v := range m {
		if v > 0 {
			names = append(names, fmt.Sprintf("%s=%.0f", n, v))
			total += v
		}
	}
	sort.Strings(names)
	return total, strings.Join(names, " ")
}

// TestDiskFull fills two 8 MiB tmpfs, one holding the persistent sending
// queue (the sink stops reading, so the queue grows), one the tenant buffers:
// the collector must keep running and count what it drops, and once space
// returns (the sink reads again, filler files are removed) deliver new
// records again, to the sink and to the tenant buffers.
func TestDiskFull(t *testing.T) {
	binary(t)
	needRoot(t, "mount", "umount")
	// Two small disks, one for the persistent queue and one for the tenant
	// buffers, so that one filling up does not decide when the other gets
	// space back. A filler file on each stands for "other users of the
	// disk": removing it is how space returns.
	qdisk, tbdisk := mountTmpfs(t, "8m"), mountTmpfs(t, "8m")
	fillers := []string{filepath.Join(qdisk, "filler"), filepath.Join(tbdisk, "filler")}
	for _, f := range fillers {
		if err := os.WriteFile(f, make([]byte, 3<<20), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sink := newAckSink(t, "127.0.0.1:0")
	sink.blackhole.Store(true)
	sock := filepath.Join(t.TempDir(), "edge.sock")
	port := testutil.FreeTCPPort(t)
	edge := startCollector(t, "edge", "", fmt.Sprintf(`
extensions:
  file_storage/q:
    directory: %[1]s/queue
    create_directory: true
receivers:
  unixsocket:
    path: %[2]s
    framing: newline
    format: rfc3164
    peer:
      credentials: false
      systemd_unit: false
    # The smallest hold-back buffer: what the receiver keeps to re-send while
    # the exporters refuse is bounded, so it fits in the space that returns.
    buffer:
      max_bytes: 2097152
exporters:
  cfjs1:
    endpoints:
      - name: log-a
        endpoint: %[3]s
    failback:
      initial_backoff: 100ms
      max_backoff: 1s
      healthy_for: 1s
    sending_queue:
      storage: file_storage/q
      queue_size: 1000000
  tenantbuffer:
    directory: %[5]s/tb
    tenant:
      attribute: logx.service
    limits:
      max_total_bytes: unlimited
      min_free_disk_bytes: unlimited
    segments:
      max_bytes: 1MiB
service:
  extensions: [file_storage/q]
  telemetry:
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[4]d
  pipelines:
    logs:
      receivers: [unixsocket]
      exporters: [cfjs1, tenantbuffer]
`, qdisk, sock, sink.addr(), port, tbdisk))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	testutil.WaitFor(t, 30*time.Second, "the edge socket", func() bool { _, err := os.Stat(sock); return err == nil })

	// Phase 1: far more than 8 MiB of records; the disk fills up.
	var next uint64
	rate := scale(10000, 20000)
	var drops, queueFull float64
	var desc string
	// Until the persistent queue refuses (its disk is full) and the tenant
	// buffers' disk is full too; bounded.
	for round := 0; round < 15 && (queueFull == 0 || freeBytes(t, tbdisk) > 64<<10); round++ {
		feedUnix(t, sock, &next, 1, rate, 2*time.Second)
		testutil.WaitFor(t, 10*time.Second, "metrics", func() bool {
			m, err := metrics(url, dropMetrics)
			if err != nil {
				return false
			}
			drops, desc = sumMetrics(m)
			queueFull = m["otelcol_exporter_enqueue_failed_log_records"]
			return true
		})
	}
	t.Logf("disks full after %d lines: free %d (queue) and %d (tenant buffers) bytes; counted: %s", next, freeBytes(t, qdisk), freeBytes(t, tbdisk), desc)
	if drops == 0 || queueFull == 0 {
		t.Fatalf("%d lines into 8 MiB disks and no drop, refusal or failure counted (free: %d, %d bytes)", next, freeBytes(t, qdisk), freeBytes(t, tbdisk))
	}
	if !edge.running() {
		t.Fatalf("the collector exited when the disk filled up: %v", edge.err)
	}

	// Phase 2: space returns. New records must reach the sink and the
	// tenant buffers.
	accepted := func() float64 {
		m, err := metrics(url, regexp.MustCompile(`tenantbuffer_records_accepted`))
		if err != nil {
			t.Fatalf("metrics: %v", err)
		}
		total, _ := sumMetrics(m)
		return total
	}
	dropped := func() float64 {
		m, err := metrics(url, regexp.MustCompile(`unixsocket_dropped_records`))
		if err != nil {
			t.Fatalf("metrics: %v", err)
		}
		total, _ := sumMetrics(m)
		return total
	}
	before := accepted()
	for _, f := range fillers {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	sink.blackhole.Store(false)
	// Let what the queue and the receiver held drain: until the sink's
	// count stands still for 2 s (at most 60 s; not reaching it is not an
	// error by itself, the checks below decide).
	var last int64 = -1
	stillSince := time.Now()
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if n := sink.lines.Load(); n != last {
			last, stillSince = n, time.Now()
		} else if time.Since(stillSince) > 2*time.Second {
			break
		}
	}
	droppedBefore := dropped()
	// New records after recovery: each must reach the sink or be counted
	// as dropped by the receiver (never silently lost).
	ids := feedUnix(t, sock, &next, 2, 500, 2*time.Second)
	var missing int
	var newDrops float64
	testutil.WaitFor(t, scale(150*time.Second, 300*time.Second), "every record written after recovery at the sink (or counted as dropped)", func() bool {
		direct, _ := sink.snapshot()
		missing, _ = direct.missing(ids)
		newDrops = dropped() - droppedBefore
		return missing == 0 || (float64(missing) <= newDrops && missing < len(ids)/2)
	}, func() string {
		return fmt.Sprintf("%d of %d missing, %.0f new drops counted; the sink got %d lines in all", missing, len(ids), newDrops, sink.lines.Load())
	})
	after := accepted()
	t.Logf("after recovery: %d of %d new lines delivered, %.0f drops counted meanwhile (the sink got %d lines in all, %d were fed); tenant buffers accepted %.0f more records",
		len(ids)-missing, len(ids), newDrops, sink.lines.Load(), next, after-before)
	if after <= before {
		t.Fatalf("the tenant buffers accepted nothing after space returned (accepted %.0f before, %.0f after)", before, after)
	}
	if !edge.running() {
		t.Fatalf("the collector exited: %v", edge.err)
	}
}
