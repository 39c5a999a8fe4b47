//go:build resilience

package resilience

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The per-host role configs, run as shipped with the built collector: each
// with its real inputs (journal, unix socket, FIFO), its real outputs (local
// files, cfjs1 to tier 2) and one failure.

// recSink is a tier-2 stand-in (the ackSink protocol) that also records
// the cfjs1 format of every line by id, and can be stopped: stopped, its
// port no longer listens, as a tier-2 side that is down.
type recSink struct {
	*ackSink
	fmu     sync.Mutex
	formats map[uint64]string
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
	stopped bool
}

func startRecSink(t *testing.T, addr string) *recSink {
	t.Helper()
	var l net.Listener
	var err error
	// The port of a stopped sink is taken again at once; a previous
	// listener's connections may linger for a moment.
	testutil.WaitFor(t, 10*time.Second, "listening on "+addr, func() bool {
		l, err = net.Listen("tcp", addr)
		return err == nil
	}, func() string { return fmt.Sprint(err) })
	s := &recSink{
		ackSink: &ackSink{l: l, direct: idSet{}, dead: idSet{}},
		formats: map[uint64]string{},
		conns:   map[net.Conn]struct{}{},
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.fmu.Lock()
			if s.stopped {
				s.fmu.Unlock()
				c.Close()
				return
			}
			s.conns[c] = struct{}{}
			s.wg.Add(1)
			s.fmu.Unlock()
			go func() {
				defer s.wg.Done()
				defer c.Close()
				s.serve(&teeConn{Conn: c, sink: s})
			}()
		}
	}()
	t.Cleanup(s.stop)
	return s
}

// stop closes the listener and every connection (tier 2 down).
func (s *recSink) stop() {
	s.fmu.Lock()
	if s.stopped {
		s.fmu.Unlock()
		return
	}
	s.stopped = true
	s.l.Close()
	for c := range s.conns {
		c.Close()
	}
	s.fmu.Unlock()
	s.wg.Wait()
}

var formatRe = regexp.MustCompile(`^\{"format":"([^"]*)"`)

// teeConn shows the sink's format recorder every line the sink reads.
type teeConn struct {
	net.Conn
	sink    *recSink
	partial []byte
}

func (c *teeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.partial = append(c.partial, p[:n]...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		line := c.partial[:i]
		if id, ok := lineID(line); ok {
			f := ""
			if m := formatRe.FindSubmatch(line); m != nil {
				f = string(m[1])
			}
			c.sink.fmu.Lock()
			c.sink.formats[id] = f
			c.sink.fmu.Unlock()
		}
		c.partial = c.partial[i+1:]
	}
	return n, err
}

// sideIDs is what one tier-2 side got: directly at its own sinks, or as
// dead-letter copies for it at the other side's sinks (a side that was
// down and came back has had several sinks).
func sideIDs(own, other []*recSink) idSet {
	out := idSet{}
	for _, s := range own {
		direct, _ := s.snapshot()
		out.addAll(direct)
	}
	for _, s := range other {
		_, dead := s.snapshot()
		out.addAll(dead)
	}
	return out
}

// series scrapes the metrics whose names match re, one value per series
// (name with _total taken off, then its labels as exposed).
func series(url string, re *regexp.Regexp) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		key := line[:i]
		name, labels := key, ""
		if j := strings.IndexByte(key, '{'); j >= 0 {
			name, labels = key[:j], key[j:]
		}
		if !re.MatchString(name) {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[trimTotal(name)+stripOtelLabels(labels)] += v
		}
	}
	return out, sc.Err()
}

// stripOtelLabels drops the labels every series carries (service name,
// instance, scope), keeping the ones that say what was counted.
var otelLabel = regexp.MustCompile(`,?(otel_scope_[a-z_]+|service_[a-z_]+|job|instance)="[^"]*"`)

func stripOtelLabels(labels string) string {
	l := otelLabel.ReplaceAllString(labels, "")
	l = strings.Replace(l, "{,", "{", 1)
	if l == "{}" {
		return ""
	}
	return l
}

// sumSeries adds the series of one metric name (all its labels).
func sumSeries(m map[string]float64, name string) float64 {
	var total float64
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			total += v
		}
	}
	return total
}

// pick keeps the series whose names match one of the patterns.
func pick(m map[string]float64, patterns ...string) map[string]float64 {
	re := regexp.MustCompile(strings.Join(patterns, "|"))
	out := map[string]float64{}
	for k, v := range m {
		if re.MatchString(k) {
			out[k] = v
		}
	}
	return out
}

func describe(m map[string]float64) string {
	var s []string
	for k, v := range m {
		if v != 0 {
			s = append(s, fmt.Sprintf("%s=%.0f", k, v))
		}
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// healthStatus asks the health_check extension; 0 if it does not answer.
func healthStatus(addr string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// writeJournal writes entries (ids, now) to a journal file in dir with
// systemd-journal-remote, as a host's journald would have them.
func writeJournal(t *testing.T, dir string, ids []uint64) {
	t.Helper()
	remote := "/lib/systemd/systemd-journal-remote"
	if _, err := os.Stat(remote); err != nil {
		t.Fatalf("this test needs %s (apt-get install systemd-journal-remote): %v", remote, err)
	}
	var b bytes.Buffer
	now := time.Now().UnixMicro()
	for i, id := range ids {
		fmt.Fprintf(&b, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=pg-core-1\nSYSLOG_IDENTIFIER=postgres\n_SYSTEMD_UNIT=postgresql.service\nPRIORITY=6\nMESSAGE=req=%016x checkpoint complete\n\n",
			now-int64(len(ids)-i), 1000+i, id)
	}
	cmd := exec.Command(remote, "-o", filepath.Join(dir, "remote.journal"), "-")
	cmd.Stdin = &b
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
}

// auditLine is a pgaudit line as PostgreSQL writes it to its pipe.
func auditLine(id uint64) []byte {
	return fmt.Appendf(nil, "AUDIT: SESSION,%d,1,READ,SELECT,TABLE,public.items,select * from items where req=%016x,<not logged>\n", id%1000, id)
}

// feedFIFO writes n pgaudit lines to the FIFO at rate lines/s, ids from
// *next; bounded by n.
func feedFIFO(t *testing.T, path string, next *uint64, rate, n int) []uint64 {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var ids []uint64
	perTick := max(1, rate/100)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var buf []byte
	for len(ids) < n {
		<-tick.C
		buf = buf[:0]
		for i := 0; i < perTick && len(ids) < n; i++ {
			*next++
			ids = append(ids, *next)
			buf = append(buf, auditLine(*next)...)
		}
		if _, err := f.Write(buf); err != nil {
			t.Fatalf("writing to %s: %v", path, err)
		}
	}
	return ids
}

var edgeRoleMetrics = regexp.MustCompile(`^otelcol_(logx_|exporter_enqueue_failed)`)

// hostRole is a per-host role config (configs/<name>.yaml) started as
// shipped: a journal of 200 entries written by systemd-journal-remote and
// read by the journal receiver's default (direct) reader, a data-center
// status source, two tier-2 stand-ins (log-a, log-b), and every directory
// and port moved into the test by the config's environment variables. The
// one setting given on the command line is where the journal is: the
// shipped config reads the system journal, which the test cannot write.
type hostRole struct {
	runDir, logDir string
	journalIDs     []uint64
	addrA, addrB   string
	sinkA, sinkB   *recSink
	health, url    string
	col            *collector
}

// startHostRole starts configs/<name>.yaml with its journal's ids from
// firstJournalID and env added, and waits until it is healthy.
func startHostRole(t *testing.T, name string, firstJournalID uint64, env ...string) *hostRole {
	t.Helper()
	binary(t)
	root := t.TempDir()
	h := &hostRole{runDir: filepath.Join(root, "run"), logDir: filepath.Join(root, "logs")}
	stateDir, journalDir := filepath.Join(root, "state"), filepath.Join(root, "journal")
	for _, d := range []string{h.runDir, journalDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		h.journalIDs = append(h.journalIDs, firstJournalID+uint64(i))
	}
	writeJournal(t, journalDir, h.journalIDs)
	dc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name":"dc-1","status":"active"}`)
	}))
	t.Cleanup(dc.Close)

	h.addrA, h.addrB = fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t)), fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t))
	h.sinkA, h.sinkB = startRecSink(t, h.addrA), startRecSink(t, h.addrB)
	metricsPort := testutil.FreeTCPPort(t)
	h.health = fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t))
	h.url = fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	sets := []string{"receivers::journal::directory=" + journalDir}
	h.col = startCollectorSet(t, name, "", shippedConfig(t, name+".yaml"), sets, append([]string{
		"LOGX_LOG_A=" + h.addrA, "LOGX_LOG_B=" + h.addrB,
		"LOGX_DC_STATUS_URL=" + dc.URL + "/dc-status",
		"LOGX_RUN_DIR=" + h.runDir, "LOGX_STATE_DIR=" + stateDir, "LOGX_LOG_DIR=" + h.logDir,
		"LOGX_HEALTH_ENDPOINT=" + h.health,
		fmt.Sprintf("LOGX_METRICS_PORT=%d", metricsPort),
	}, env...)...)
	testutil.WaitFor(t, 60*time.Second, "the collector healthy", func() bool { return healthStatus(h.health) == http.StatusOK },
		func() string { return fmt.Sprintf("health answers %d", healthStatus(h.health)) })
	return h
}

// TestCorePostgresConfig runs configs/core-postgres.yaml as shipped: the
// journal (a real journal file read by the direct reader), syslog lines
// on its unix socket and pgaudit lines on its FIFO; out to two cfjs1 tier-2
// sides and the audit file. Then tier 2 goes down (nothing listens): the
// audit file still gets every audit line exactly once, in order, and what
// tier 2 missed reaches it once it is back, or is counted by the fanout
// connector (otelcol_logx_fanout_dropped_records).
func TestCorePostgresConfig(t *testing.T) {
	h := startHostRole(t, "core-postgres", 5_000_000, "LOGX_AUDIT_GROUP=root")
	runDir, logDir, journalIDs, url, health, col := h.runDir, h.logDir, h.journalIDs, h.url, h.health, h.col
	addrA, addrB, sinkA, sinkB := h.addrA, h.addrB, h.sinkA, h.sinkB
	sinksA, sinksB := []*recSink{sinkA}, []*recSink{sinkB}
	sock, fifo := filepath.Join(runDir, "syslog.sock"), filepath.Join(runDir, "pgaudit.fifo")
	audit := filepath.Join(logDir, "postgresql", "audit.log")
	for _, p := range []string{sock, fifo} {
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
	}

	// Phase 1: tier 2 up. Every input reaches both sides; the audit lines
	// also reach the audit file, and only they.
	var nextSyslog, nextAudit uint64 = 1_000_000, 3_000_000
	syslogIDs := feedUnix(t, sock, &nextSyslog, 1, 500, 2*time.Second)
	auditIDs := feedFIFO(t, fifo, &nextAudit, 2000, scale(4000, 40000))
	everything := append(append(append([]uint64(nil), journalIDs...), syslogIDs...), auditIDs...)
	var missA, missB int
	testutil.WaitFor(t, 90*time.Second, "every journal, syslog and audit line at log-a and log-b", func() bool {
		missA, _ = sideIDs(sinksA, sinksB).missing(everything)
		missB, _ = sideIDs(sinksB, sinksA).missing(everything)
		return missA == 0 && missB == 0
	}, func() string {
		m, _ := series(url, edgeRoleMetrics)
		_, firstA := sideIDs(sinksA, sinksB).missing(everything)
		return fmt.Sprintf("log-a misses %d (first %x), log-b %d of %d; %s", missA, firstA, missB, len(everything), describe(m))
	})
	sinkA.fmu.Lock()
	for _, id := range auditIDs {
		if f := sinkA.formats[id]; f != "pgaudit" {
			t.Errorf("audit line %x reached tier 2 as format %q, want pgaudit", id, f)
			break
		}
	}
	for _, id := range syslogIDs[:1] {
		if f := sinkA.formats[id]; f == "pgaudit" {
			t.Errorf("syslog line %x reached tier 2 as format pgaudit", id)
		}
	}
	sinkA.fmu.Unlock()
	local := newFileIDs(audit)
	var inFile idSet
	testutil.WaitFor(t, 30*time.Second, "every audit line in the audit file", func() bool {
		inFile = local.read(t)
		n, _ := inFile.missing(auditIDs)
		return n == 0
	})
	for _, id := range append(append([]uint64(nil), journalIDs...), syslogIDs...) {
		if inFile[id] > 0 {
			t.Fatalf("line %x of the journal or the syslog socket is in the audit file", id)
		}
	}
	if st, err := os.Stat(audit); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("audit file mode %v (%v), the config asks for 0640", st.Mode().Perm(), err)
	}
	t.Logf("tier 2 up: %d journal, %d syslog and %d audit lines at both sides; the audit file holds the audit lines",
		len(journalIDs), len(syslogIDs), len(auditIDs))

	// Phase 2: tier 2 down. The audit file gets every line at once, once.
	sinkA.stop()
	sinkB.stop()
	downSyslog := feedUnix(t, sock, &nextSyslog, 2, 500, 2*time.Second)
	downAudit := feedFIFO(t, fifo, &nextAudit, 2000, scale(10000, 100000))
	allAudit := append(append([]uint64(nil), auditIDs...), downAudit...)
	testutil.WaitFor(t, 60*time.Second, "every audit line in the file with tier 2 down", func() bool {
		inFile = local.read(t)
		n, _ := inFile.missing(allAudit)
		return n == 0
	}, func() string {
		n, first := inFile.missing(allAudit)
		return fmt.Sprintf("%d of %d missing (first %x)", n, len(allAudit), first)
	})
	if d := inFile.duplicates(); d > 0 {
		t.Fatalf("the audit file holds %d repeated lines with tier 2 down", d)
	}
	m, err := series(url, edgeRoleMetrics)
	if err != nil {
		t.Fatal(err)
	}
	if up := sumSeries(m, "otelcol_logx_cfjs1_exporter_up"); up != 0 {
		t.Errorf("%.0f endpoints counted up while nothing listens", up)
	}
	t.Logf("tier 2 down: %d audit lines in the file once each; %d syslog lines fed meanwhile; exporter: %s", len(allAudit), len(downSyslog), describe(pick(m, "cfjs1_exporter_(up|acked)", "fanout_(dropped|backlog)")))

	// Phase 3: tier 2 back. Each side gets every line not counted lost by
	// the fanout connector (the audit pipeline), and every syslog line.
	sinkA, sinkB = startRecSink(t, addrA), startRecSink(t, addrB)
	sinksA, sinksB = append(sinksA, sinkA), append(sinksB, sinkB)
	allSyslog := append(append([]uint64(nil), syslogIDs...), downSyslog...)
	var lost float64
	testutil.WaitFor(t, 180*time.Second, "tier 2 to get every line not counted lost", func() bool {
		m, err = series(url, edgeRoleMetrics)
		if err != nil {
			return false
		}
		lost = sumSeries(m, "otelcol_logx_fanout_dropped_records")
		missA, _ = sideIDs(sinksA, sinksB).missing(allAudit)
		missB, _ = sideIDs(sinksB, sinksA).missing(allAudit)
		sa, _ := sideIDs(sinksA, sinksB).missing(allSyslog)
		sb, _ := sideIDs(sinksB, sinksA).missing(allSyslog)
		// Two cfjs1 exporters (main and pgaudit), each with its own
		// series per endpoint: 4 when both endpoints are up for both.
		return sumSeries(m, "otelcol_logx_cfjs1_exporter_up") == 4 && sumSeries(m, "otelcol_logx_fanout_backlog_batches") == 0 &&
			float64(missA) <= lost && float64(missB) <= lost && sa == 0 && sb == 0
	}, func() string {
		sa, _ := sideIDs(sinksA, sinksB).missing(allSyslog)
		return fmt.Sprintf("audit lines missing at log-a %d, log-b %d of %d; syslog lines missing at log-a %d; %.0f counted lost; %s", missA, missB, len(allAudit), sa, lost, describe(pick(m, "cfjs1_exporter_(up|acked)", "fanout_")))
	})
	if float64(missA) != lost || float64(missB) != lost {
		t.Errorf("log-a misses %d and log-b %d audit lines but %.0f were counted lost: fed = delivered + counted drops does not hold", missA, missB, lost)
	}

	// Phase 4: after recovery, new audit lines reach the file and both sides.
	moreAudit := feedFIFO(t, fifo, &nextAudit, 2000, 2000)
	allAudit = append(allAudit, moreAudit...)
	testutil.WaitFor(t, 60*time.Second, "the audit lines written after recovery at both sides", func() bool {
		missA, _ = sideIDs(sinksA, sinksB).missing(moreAudit)
		missB, _ = sideIDs(sinksB, sinksA).missing(moreAudit)
		return missA == 0 && missB == 0
	})
	testutil.WaitFor(t, 30*time.Second, "every audit line in the file", func() bool {
		inFile = local.read(t)
		n, _ := inFile.missing(allAudit)
		return n == 0
	})
	if s := healthStatus(health); s != http.StatusOK {
		t.Errorf("health answers %d after tier 2 returned", s)
	}
	col.stop()
	inFile = local.read(t)
	if d := inFile.duplicates(); d > 0 || len(inFile) != len(allAudit) {
		t.Fatalf("the audit file holds %d distinct lines (%d repeats), %d were fed", len(inFile), d, len(allAudit))
	}
	checkOrder(t, audit)
	a, b := sideIDs(sinksA, sinksB), sideIDs(sinksB, sinksA)
	missA, _ = a.missing(allAudit)
	missB, _ = b.missing(allAudit)
	t.Logf("done: %d audit lines, each once and in order in the file; log-a got %d and log-b %d of them (%d and %d repeats of any line, at-least-once), %.0f counted lost",
		len(allAudit), len(allAudit)-missA, len(allAudit)-missB, a.duplicates(), b.duplicates(), lost)
}

// mountTmpfsAt mounts a tmpfs of size on dir (created), unmounted at
// cleanup, after the collectors started later are killed.
func mountTmpfsAt(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir)
	t.Cleanup(func() {
		if err := exec.Command("umount", dir).Run(); err != nil {
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
}

var defaultRoleMetrics = regexp.MustCompile(`^otelcol_logx_.*(dropped|written)`)

// droppedByReason is every record counted as dropped (ratelimit's summary
// records aside: they are not fed lines).
func droppedByReason(m map[string]float64) float64 {
	var total float64
	for k, v := range m {
		if strings.Contains(k, "dropped") && !strings.Contains(k, "summary") {
			total += v
		}
	}
	return total
}

// TestDefaultConfigDiskFull runs configs/default.yaml as shipped with its
// log directory on a small disk: a tmpfs of 1 GiB + 1 MiB, so that the
// file exporter's disk guard (min_free_bytes 1 GiB by default) leaves
// about 1 MiB for the file. Lines come on the unix socket (the test) and
// the FIFO (a child process, cat). Beyond that space lines are dropped and
// counted with a reason, the collector keeps running and its health
// answers; once space returns (the tmpfs grown) new lines are written
// again. fed = lines in the file + counted drops.
func TestDefaultConfigDiskFull(t *testing.T) {
	binary(t)
	needRoot(t, "mount", "umount")
	state := t.TempDir()
	logs := filepath.Join(state, "logs")
	mountTmpfsAt(t, logs, "1025m")
	config := shippedConfig(t, "default.yaml")
	metricsPort := testutil.FreeTCPPort(t)
	health := fmt.Sprintf("127.0.0.1:%d", testutil.FreeTCPPort(t))
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	col := startCollector(t, "default", "", config,
		fmt.Sprintf("LOGX_OTLP_HTTP_ENDPOINT=127.0.0.1:%d", testutil.FreeTCPPort(t)),
		"LOGX_STATE_DIR="+state,
		"LOGX_HEALTH_ENDPOINT="+health,
		fmt.Sprintf("LOGX_METRICS_PORT=%d", metricsPort),
	)
	sock, fifo, file := filepath.Join(state, "log.sock"), filepath.Join(state, "app.fifo"), filepath.Join(logs, "all.log")
	testutil.WaitFor(t, 60*time.Second, "the collector healthy", func() bool { return healthStatus(health) == http.StatusOK },
		func() string { return fmt.Sprintf("health answers %d", healthStatus(health)) })

	// Phase 1: about 3 MiB of lines into 1 MiB of space, under the rate
	// limit (1000 lines/s per service, burst 5000).
	var next uint64
	fed := feedUnix(t, sock, &next, 1, 800, scale(12*time.Second, 30*time.Second))
	// A program writes to the FIFO: a child process, its own writer.
	var fifoLines bytes.Buffer
	for range 2000 {
		next++
		fed = append(fed, next)
		fifoLines.Write(syslogLine(next, 1))
	}
	cat := exec.Command("sh", "-c", "cat > "+fifo)
	cat.Stdin = &fifoLines
	if out, err := cat.CombinedOutput(); err != nil {
		t.Fatalf("cat > %s: %v\n%s", fifo, err, out)
	}
	var m map[string]float64
	var written, dropped float64
	testutil.WaitFor(t, 60*time.Second, "every line written or counted as dropped", func() bool {
		var err error
		if m, err = series(url, defaultRoleMetrics); err != nil {
			return false
		}
		written, dropped = sumSeries(m, "otelcol_logx_logfile_records_written"), droppedByReason(m)
		return written+dropped == float64(len(fed))
	}, func() string {
		return fmt.Sprintf("%d fed, %.0f written, %.0f dropped: %s", len(fed), written, dropped, describe(m))
	})
	full := m[`otelcol_logx_logfile_records_dropped{reason="disk_min_free"}`]
	t.Logf("disk full: %d lines fed, %.0f written, %.0f dropped (%s); free %d bytes", len(fed), written, dropped, describe(m), freeBytes(t, logs))
	if full == 0 {
		t.Fatalf("%d lines into 1 MiB and none dropped for disk_min_free: %s", len(fed), describe(m))
	}
	if !col.running() {
		t.Fatalf("the collector exited when the disk filled up: %v", col.err)
	}
	if s := healthStatus(health); s == 0 {
		t.Fatal("health does not answer with the disk full")
	} else {
		t.Logf("health answers %d with the disk full", s)
	}

	// Phase 2: space returns. Probe lines until one is written (the guard
	// sees free space at most every check_interval), then every new line
	// must be written.
	run(t, "mount", "-o", "remount,size=1100m", logs)
	probes := 0
	testutil.WaitFor(t, 30*time.Second, "a line written after space returned", func() bool {
		fed = append(fed, feedUnix(t, sock, &next, 2, 100, 200*time.Millisecond)...)
		probes++
		m, _ = series(url, defaultRoleMetrics)
		return sumSeries(m, "otelcol_logx_logfile_records_written") > written
	})
	droppedBefore := droppedByReason(m)
	more := feedUnix(t, sock, &next, 3, 500, 2*time.Second)
	fed = append(fed, more...)
	testutil.WaitFor(t, 60*time.Second, "every line after recovery written", func() bool {
		m, _ = series(url, defaultRoleMetrics)
		return sumSeries(m, "otelcol_logx_logfile_records_written")+droppedByReason(m) == float64(len(fed))
	}, func() string { return fmt.Sprintf("%d fed: %s", len(fed), describe(m)) })
	if d := droppedByReason(m) - droppedBefore; d != 0 {
		t.Errorf("%.0f lines dropped after space returned: %s", d, describe(m))
	}
	written, dropped = sumSeries(m, "otelcol_logx_logfile_records_written"), droppedByReason(m)
	if s := healthStatus(health); s != http.StatusOK {
		t.Errorf("health answers %d after space returned", s)
	}
	col.stop()

	inFile := newFileIDs(file).read(t)
	if d := inFile.duplicates(); d > 0 {
		t.Fatalf("the file holds %d repeated lines", d)
	}
	if n, first := inFile.missing(more); n > 0 {
		t.Fatalf("%d of the %d lines written after space returned are not in the file (first %x)", n, len(more), first)
	}
	if float64(len(inFile)) != written || float64(len(inFile))+dropped != float64(len(fed)) {
		t.Fatalf("fed %d lines; the file holds %d, %.0f counted written, %.0f counted dropped: fed = written + counted drops does not hold",
			len(fed), len(inFile), written, dropped)
	}
	t.Logf("done: %d lines fed (%d probe rounds after space returned), %d in the file, %.0f counted dropped (%s)",
		len(fed), probes, len(inFile), dropped, describe(m))
}

// TestEdgeConfig runs configs/edge.yaml as shipped: the journal (a real
// journal file read by the direct reader), lines on its FIFO and its
// syslog socket, out to two cfjs1 tier-2 sides and the local file. Then
// both tier-2 sides go down: the local file still gets every line once and
// the receivers drop nothing; when tier 2 is back each side gets every line
// the fanout connector did not count as lost for it.
func TestEdgeConfig(t *testing.T) {
	h := startHostRole(t, "edge", 6_000_000, fmt.Sprintf("LOGX_PPROF_ENDPOINT=127.0.0.1:%d", testutil.FreeTCPPort(t)))
	runDir, logDir, journalIDs, url := h.runDir, h.logDir, h.journalIDs, h.url
	addrA, addrB, sinkA, sinkB := h.addrA, h.addrB, h.sinkA, h.sinkB
	sinksA, sinksB := []*recSink{sinkA}, []*recSink{sinkB}
	sock, fifo := filepath.Join(runDir, "syslog.sock"), filepath.Join(runDir, "apps.fifo")

	// Phase 1: tier 2 up. Every input reaches both sides and the local file.
	var nextSyslog, nextFIFO uint64 = 1_000_000, 3_000_000
	fed := append([]uint64(nil), journalIDs...)
	fed = append(fed, feedUnix(t, sock, &nextSyslog, 1, 500, 2*time.Second)...)
	fed = append(fed, feedFIFO(t, fifo, &nextFIFO, 2000, 2000)...)
	local := newFileIDs(filepath.Join(logDir, "all.log"))
	var inFile idSet
	var missA, missB int
	testutil.WaitFor(t, 90*time.Second, "every line at log-a, log-b and in the local file", func() bool {
		missA, _ = sideIDs(sinksA, sinksB).missing(fed)
		missB, _ = sideIDs(sinksB, sinksA).missing(fed)
		inFile = local.read(t)
		n, _ := inFile.missing(fed)
		return missA == 0 && missB == 0 && n == 0
	}, func() string {
		n, _ := inFile.missing(fed)
		m, _ := series(url, edgeRoleMetrics)
		return fmt.Sprintf("log-a misses %d, log-b %d, the file %d of %d; %s", missA, missB, n, len(fed), describe(m))
	})
	t.Logf("tier 2 up: %d lines (journal, socket, FIFO) at both sides and in the local file", len(fed))

	// Phase 2: both sides down. The local file still gets every line, once.
	sinkA.stop()
	sinkB.stop()
	fed = append(fed, feedUnix(t, sock, &nextSyslog, 2, 500, 2*time.Second)...)
	fed = append(fed, feedFIFO(t, fifo, &nextFIFO, 2000, 2000)...)
	testutil.WaitFor(t, 60*time.Second, "every line in the local file with tier 2 down", func() bool {
		inFile = local.read(t)
		n, _ := inFile.missing(fed)
		return n == 0
	}, func() string {
		n, first := inFile.missing(fed)
		return fmt.Sprintf("%d of %d missing (first %x)", n, len(fed), first)
	})
	if d := inFile.duplicates(); d > 0 {
		t.Fatalf("the local file holds %d repeated lines with tier 2 down", d)
	}

	// Phase 3: tier 2 back. Each side gets every line not counted lost.
	sinkA, sinkB = startRecSink(t, addrA), startRecSink(t, addrB)
	sinksA, sinksB = append(sinksA, sinkA), append(sinksB, sinkB)
	var lost float64
	var m map[string]float64
	testutil.WaitFor(t, 180*time.Second, "tier 2 to get every line not counted lost", func() bool {
		var err error
		if m, err = series(url, edgeRoleMetrics); err != nil {
			return false
		}
		lost = sumSeries(m, "otelcol_logx_fanout_dropped_records")
		missA, _ = sideIDs(sinksA, sinksB).missing(fed)
		missB, _ = sideIDs(sinksB, sinksA).missing(fed)
		return sumSeries(m, "otelcol_logx_cfjs1_exporter_up") == 2 && sumSeries(m, "otelcol_logx_fanout_backlog_batches") == 0 &&
			float64(missA) <= lost && float64(missB) <= lost
	}, func() string {
		return fmt.Sprintf("log-a misses %d, log-b %d of %d; %.0f counted lost; %s", missA, missB, len(fed), lost, describe(pick(m, "cfjs1_exporter_(up|acked)", "fanout_")))
	})
	if float64(missA) != lost || float64(missB) != lost {
		t.Errorf("log-a misses %d and log-b %d lines but %.0f were counted lost: fed = delivered + counted drops does not hold", missA, missB, lost)
	}
	if dropped := sumSeries(m, "otelcol_logx_unixsocket_dropped_records") + sumSeries(m, "otelcol_logx_fifo_dropped_records") +
		sumSeries(m, "otelcol_logx_journal_dropped"); dropped != 0 {
		t.Errorf("the receivers dropped %.0f lines", dropped)
	}
	if inFile = local.read(t); inFile.duplicates() > 0 {
		t.Errorf("the local file holds %d repeated lines", inFile.duplicates())
	}
	t.Logf("%d lines fed: the local file holds each once; tier 2 misses %d at log-a and %d at log-b, %.0f counted lost", len(fed), missA, missB, lost)
}
