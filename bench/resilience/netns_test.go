//go:build resilience

package resilience

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// tier2 is a tier-2 collector (cfjs1 receiver -> logfile exporter, JSON)
// running in its own network namespace behind a veth pair.
type tier2 struct {
	ns, addr, out string
	col           *collector
}

// newTier2 makes namespace ns with a veth pair (host side hostIP/30, namespace
// side nsIP/30) and starts a tier-2 collector listening on nsIP:5170.
// Everything is removed at cleanup, also when the test fails.
func newTier2(t *testing.T, name, ns, hostIf, hostIP, nsIP string) *tier2 {
	t.Helper()
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	nsIf := hostIf + "n"
	run(t, "ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", hostIf).Run() })
	run(t, "ip", "link", "set", nsIf, "netns", ns)
	run(t, "ip", "addr", "add", hostIP+"/30", "dev", hostIf)
	run(t, "ip", "link", "set", hostIf, "up")
	run(t, "ip", "netns", "exec", ns, "ip", "addr", "add", nsIP+"/30", "dev", nsIf)
	run(t, "ip", "netns", "exec", ns, "ip", "link", "set", nsIf, "up")
	run(t, "ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")

	out := filepath.Join(t.TempDir(), name+".jsonl")
	cfg := fmt.Sprintf(`
receivers:
  cfjs1:
    endpoint: %s:5170
exporters:
  logfile:
    path: %s
    format: json
    flush:
      interval: 100ms
    rotation:
      max_bytes: 0
      compression: none
    disk_guard:
      max_total_bytes: 0
      min_free_bytes: 0
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [cfjs1]
      exporters: [logfile]
`, nsIP, out)
	tr := &tier2{ns: ns, addr: nsIP + ":5170", out: out}
	tr.col = startCollector(t, name, ns, cfg)
	testutil.WaitFor(t, 30*time.Second, name+" to listen in "+ns, func() bool { return ssListening(ns) })
	return tr
}

func ssListening(ns string) bool {
	out, err := exec.Command("ip", "netns", "exec", ns, "ss", "-Hltn", "sport = :5170").Output()
	return err == nil && len(bytes.TrimSpace(out)) > 0
}

// read returns the ids the tier-2 wrote, direct and dead-letter apart
// (complete lines only: the file may be being written), rotated files
// included should the exporter have rotated.
func (tr *tier2) read(t *testing.T) (direct, dead idSet, phaseDirect map[int]int) {
	t.Helper()
	direct, dead, phaseDirect = idSet{}, idSet{}, map[int]int{}
	rotated, _ := filepath.Glob(tr.out + ".*")
	for _, path := range append(rotated, tr.out) {
		tr.readFile(t, path, direct, dead, phaseDirect)
	}
	return direct, dead, phaseDirect
}

func (tr *tier2) readFile(t *testing.T, path string, direct, dead idSet, phaseDirect map[int]int) {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		in = zr
	}
	r := bufio.NewReaderSize(in, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return // a partial last line is left for the next read
		}
		id, ok := lineID(line)
		if !ok {
			continue
		}
		if bytes.Contains(line, []byte(`"cfjs1.dead_letter_for"`)) {
			dead[id]++
			continue
		}
		direct[id]++
		if i := bytes.Index(line, []byte("phase=")); i >= 0 && i+6 < len(line) {
			phaseDirect[int(line[i+6]-'0')]++
		}
	}
}

// loss sets the packet loss, in percent, of what the tier-2 sends back to
// the edge (acknowledgements and TCP ACKs: one way). This kernel has no
// sch_netem, so the loss is an nftables rule in the namespace.
func (tr *tier2) loss(t *testing.T, percent int) {
	t.Helper()
	_ = exec.Command("ip", "netns", "exec", tr.ns, "nft", "delete", "table", "inet", "logxloss").Run()
	if percent == 0 {
		return
	}
	rule := "tcp sport 5170 drop"
	if percent < 100 {
		rule = fmt.Sprintf("tcp sport 5170 numgen random mod 100 < %d drop", percent)
	}
	cmd := exec.Command("ip", "netns", "exec", tr.ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(fmt.Sprintf(`table inet logxloss {
  chain out { type filter hook output priority 0; policy accept; %s; }
}`, rule))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft in %s: %v\n%s", tr.ns, err, out)
	}
}

// TestPartialNetworkFailure: log-a's answers to the edge are dropped 100%,
// then 30%, then the network is restored. The edge must fail over (log-a's
// records reach log-b as dead-letter copies), fail back (log-a gets records
// directly again), and lose nothing for either side.
func TestPartialNetworkFailure(t *testing.T) {
	binary(t)
	needRoot(t, "ip", "nft", "ss")
	pid := os.Getpid()
	net2 := 200 + pid%50
	a := newTier2(t, "log-a", fmt.Sprintf("logx-a-%d", pid), fmt.Sprintf("lxa%d", pid%100000),
		fmt.Sprintf("10.%d.1.1", net2), fmt.Sprintf("10.%d.1.2", net2))
	b := newTier2(t, "log-b", fmt.Sprintf("logx-b-%d", pid), fmt.Sprintf("lxb%d", pid%100000),
		fmt.Sprintf("10.%d.2.1", net2), fmt.Sprintf("10.%d.2.2", net2))

	sock := filepath.Join(t.TempDir(), "edge.sock")
	startCollector(t, "edge", "", fmt.Sprintf(`
receivers:
  unixsocket:
    path: %s
    framing: newline
    format: rfc3164
    peer:
      credentials: false
      systemd_unit: false
exporters:
  cfjs1:
    mode: all
    endpoints:
      - name: log-a
        endpoint: %s
      - name: log-b
        endpoint: %s
    failback:
      initial_backoff: 200ms
      max_backoff: 2s
      healthy_for: 2s
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [unixsocket]
      exporters: [cfjs1]
`, sock, a.addr, b.addr))
	testutil.WaitFor(t, 30*time.Second, "the edge socket", func() bool { _, err := os.Stat(sock); return err == nil })

	rate := scale(1000, 5000)
	phase := scale(6*time.Second, 30*time.Second)
	var next uint64
	var ids []uint64
	steps := []struct {
		loss int
		d    time.Duration
	}{{0, phase / 2}, {100, phase}, {30, phase}, {0, phase + 4*time.Second}}
	for i, st := range steps {
		a.loss(t, st.loss)
		ids = append(ids, feedUnix(t, sock, &next, i, rate, st.d)...)
		t.Logf("phase %d: loss %d%% of log-a's answers for %s, %d lines so far", i, st.loss, st.d, len(ids))
	}

	// Both sides must end up with every line: directly, or as a dead-letter
	// copy on the other side.
	check := func() (lostA, lostB int, deadForA int, lastPhaseA int) {
		aDirect, aDead, aPhase := a.read(t)
		bDirect, bDead, _ := b.read(t)
		sideA := idSet{}
		sideA.addAll(aDirect)
		sideA.addAll(bDead)
		sideB := idSet{}
		sideB.addAll(bDirect)
		sideB.addAll(aDead)
		lostA, _ = sideA.missing(ids)
		lostB, _ = sideB.missing(ids)
		return lostA, lostB, len(bDead), aPhase[len(steps)-1]
	}
	var lostA, lostB, deadForA, lastPhaseA int
	var lastRead time.Time
	testutil.WaitFor(t, scale(60*time.Second, 240*time.Second), "both sides to have every line", func() bool {
		// Reading both files is not free at full scale: every 2 s at most.
		if time.Since(lastRead) < 2*time.Second {
			return false
		}
		lastRead = time.Now()
		lostA, lostB, deadForA, lastPhaseA = check()
		return lostA == 0 && lostB == 0
	}, func() string { return fmt.Sprintf("still missing: log-a %d, log-b %d of %d", lostA, lostB, len(ids)) })
	a.col.stop()
	b.col.stop()
	lostA, lostB, deadForA, lastPhaseA = check()
	aDirect, _, _ := a.read(t)
	bDirect, _, _ := b.read(t)
	t.Logf("%d lines: log-a got %d directly and %d as dead-letter copies on log-b; log-b got %d directly; lost: log-a %d, log-b %d; log-a direct lines after restore: %d",
		len(ids), len(aDirect), deadForA, len(bDirect), lostA, lostB, lastPhaseA)
	if lostA != 0 || lostB != 0 {
		t.Fatalf("lines lost: log-a %d, log-b %d", lostA, lostB)
	}
	if deadForA == 0 {
		t.Fatal("the edge never failed over: no dead-letter copies for log-a on log-b")
	}
	if lastPhaseA == 0 {
		t.Fatal("the edge never failed back: log-a got no line directly after the network was restored")
	}
}
