//go:build resilience

package resilience

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// tier2LimitsConfig is a tier-2 receiver feeding the nop exporter, with its
// metrics on metricsPort (LOGX_TEST_LOG_LEVEL=debug shows why each
// connection was closed). Only options every version of the receiver knows,
// so the test also runs against a binary from before the accept back-off.
func tier2LimitsConfig(cfjs1Port, metricsPort int) string {
	return fmt.Sprintf(`
receivers:
  cfjs1:
    endpoint: 127.0.0.1:%d
    max_connections: 1024
exporters:
  nop:
service:
  telemetry:
    logs:
      level: ${env:LOGX_TEST_LOG_LEVEL:-info}
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
  pipelines:
    logs:
      receivers: [cfjs1]
      exporters: [nop]
`, cfjs1Port, metricsPort)
}

// tier2Hello connects, says hello and waits (bounded) for the ack.
func tier2Hello(addr string, d time.Duration) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, d)
	if err != nil {
		return nil, nil, err
	}
	_ = c.SetDeadline(time.Now().Add(d))
	br := bufio.NewReader(c)
	if _, err := io.WriteString(c, cfjs1.HelloLineV1); err != nil {
		c.Close()
		return nil, nil, err
	}
	line, err := br.ReadString('\n')
	if err != nil || line != `{"ack":0}`+"\n" {
		c.Close()
		return nil, nil, fmt.Errorf("hello answered %q, %v", line, err)
	}
	return c, br, nil
}

// openFDs counts the descriptors pid has open.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestTier2AcceptSurvivesFDExhaustion runs the tier-2 receiver out of file
// descriptors (its RLIMIT_NOFILE lowered with prlimit to a few above what
// it has open, then more connections than that), lets them go, and checks
// that the receiver accepts again: a new sender is acknowledged and its
// lines delivered, and the failures were counted. Before the back-off, the
// first EMFILE ended the accept loop for good.
func TestTier2AcceptSurvivesFDExhaustion(t *testing.T) {
	cfjs1Port, metricsPort := testutil.FreeTCPPort(t), testutil.FreeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", cfjs1Port)
	col := startCollector(t, "tier2", "", tier2LimitsConfig(cfjs1Port, metricsPort))
	var probe net.Conn
	testutil.WaitFor(t, 30*time.Second, "the receiver to answer a hello", func() bool {
		c, _, err := tier2Hello(addr, time.Second)
		if err == nil {
			probe = c
		}
		return err == nil
	})
	probe.Close()

	// A few descriptors to spare, then a flood of connections: the kernel
	// completes them all (listen backlog), the collector runs out while
	// accepting them.
	const spare, flood = 6, 24
	limit := uint64(openFDs(t, col.pid()) + spare)
	if err := unix.Prlimit(col.pid(), unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: limit, Max: limit}, nil); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
	senders := floodOfHellos(t, addr, flood)
	testutil.WaitFor(t, 30*time.Second, "accepts to fail with EMFILE", func() bool {
		b, _ := os.ReadFile(col.log)
		return strings.Contains(string(b), "too many open files")
	})
	senders.closeAll()

	// Accepting again: a new sender is served.
	var c net.Conn
	var br *bufio.Reader
	testutil.WaitFor(t, 30*time.Second, "a new connection to be accepted and acknowledged", func() bool {
		var err error
		c, br, err = tier2Hello(addr, 2*time.Second)
		return err == nil
	}, func() string { return fmt.Sprintf("open fds %d of %d", openFDs(t, col.pid()), limit) })
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	for i := range 3 {
		if _, err := c.Write(cfjs1Line(uint64(i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for the ack of 3 lines: %v", err)
		}
		if line == `{"ack":3}`+"\n" {
			break
		}
	}
	if !col.running() {
		t.Fatal("collector exited")
	}
	m, err := metrics(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort), regexp.MustCompile(`^otelcol_logx_cfjs1_receiver_accept_errors`))
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, v := range m {
		n += v
	}
	if n == 0 {
		t.Errorf("no accept error counted: %v", m)
	}
	t.Logf("accept errors counted: %v", m)
}

// TestTier2HealthFollowsAcceptFailures runs the same descriptor exhaustion
// with the shipped binary's defaults (no feature gate on the command line)
// and the shipped tier-2 health_check block, its endpoint moved by
// LOGX_HEALTH_ENDPOINT as an operator would. It asks the health check over
// a keep-alive connection opened before (a new one would need a descriptor
// too): while accepts fail it answers 200 naming the recoverable error for
// recovery_duration, then 500; once the receiver accepts again, 200.
//
// While descriptors are short, senders come and go as they do on a real
// tier 2: every second one gives up, its descriptor is freed and the next
// waiting connection is accepted, then accepts fail again. Health must
// still turn 500: an accept between failures must not count as recovery
// and start recovery_duration again (it once did, and health stayed 200).
func TestTier2HealthFollowsAcceptFailures(t *testing.T) {
	healthCheck, recovery := shippedHealthCheck(t, "tier2-log-a")
	cfjs1Port, metricsPort, healthPort := testutil.FreeTCPPort(t), testutil.FreeTCPPort(t), testutil.FreeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", cfjs1Port)
	config := tier2LimitsConfig(cfjs1Port, metricsPort) + healthCheck
	config = strings.Replace(config, "service:\n", "service:\n  extensions: [health_check]\n", 1)
	col := startCollector(t, "tier2-health", "", config, fmt.Sprintf("LOGX_HEALTH_ENDPOINT=127.0.0.1:%d", healthPort))

	// One connection for every health request: the pool keeps it. Its
	// timeout is generous: a request that timed out would close it, and
	// the next could not be accepted.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
	healthURL := fmt.Sprintf("http://127.0.0.1:%d/", healthPort)
	var last int
	var lastBody string
	health := func() int {
		last, lastBody = 0, ""
		resp, err := client.Get(healthURL)
		if err != nil {
			lastBody = err.Error()
			return 0
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last, lastBody = resp.StatusCode, string(b)
		return last
	}
	state := func() string { return fmt.Sprintf("last health answer %d %.300s", last, lastBody) }
	testutil.WaitFor(t, 30*time.Second, "health 200", func() bool { return health() == http.StatusOK }, state)
	probe, _, err := tier2Hello(addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	probe.Close()

	const spare = 6
	limit := uint64(openFDs(t, col.pid()) + spare)
	if err := unix.Prlimit(col.pid(), unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: limit, Max: limit}, nil); err != nil {
		t.Fatalf("prlimit: %v", err)
	}
	failingSince := time.Now() // the receiver's error is no older than this
	senders := floodOfHellos(t, addr, 64)
	// Within recovery_duration a passing failure does not turn health red,
	// but the answer already says what is wrong.
	testutil.WaitFor(t, recovery, "health 200 naming the recoverable error", func() bool {
		return health() == http.StatusOK && strings.Contains(lastBody, `"status":"StatusRecoverableError"`) &&
			strings.Contains(lastBody, "too many open files")
	}, state)
	testutil.WaitFor(t, recovery+30*time.Second, "health to say the receiver cannot accept", func() bool {
		senders.churn(time.Second)
		return health() == http.StatusInternalServerError
	}, state, senders.String)
	waited := time.Since(failingSince)
	if waited < recovery {
		t.Fatalf("health 500 after %v, before recovery_duration (%v)", waited, recovery)
	}
	t.Logf("health 500 %v after the descriptors ran out (recovery_duration %v); %s", waited.Round(time.Millisecond), recovery, senders)
	if !strings.Contains(lastBody, `"healthy":false`) {
		t.Errorf("a 500 whose body does not say unhealthy: %.300s", lastBody)
	}
	// Senders were let in meanwhile: the failure lasted through accepts that worked.
	if senders.served < spare+5 {
		t.Errorf("only %d senders were served; the churn did not free descriptors as it should", senders.served)
	}
	senders.closeAll()
	testutil.WaitFor(t, 30*time.Second, "a new connection to be served", func() bool {
		c, _, err := tier2Hello(addr, 2*time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	testutil.WaitFor(t, 30*time.Second, "health 200 again", func() bool {
		return health() == http.StatusOK && strings.Contains(lastBody, `"status":"StatusOK"`)
	}, state)
}

// hellos is a flood of connections that each said hello at once: the
// collector answers a hello only once it has accepted the connection.
type hellos struct {
	conns     []net.Conn
	closed    int       // conns[:closed] are closed
	served    int       // of those, how many had been answered
	lastChurn time.Time // when churn last closed one
}

// floodOfHellos dials n connections to addr, each sending a hello.
func floodOfHellos(t *testing.T, addr string, n int) *hellos {
	t.Helper()
	h := &hellos{}
	t.Cleanup(h.closeAll)
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		h.conns = append(h.conns, c)
		if _, err := io.WriteString(c, cfjs1.HelloLineV1); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// churn closes the oldest open connection, at most once per every: a
// sender giving up. It notes whether the collector had answered it.
func (h *hellos) churn(every time.Duration) {
	if h.closed == len(h.conns) || time.Since(h.lastChurn) < every {
		return
	}
	h.lastChurn = time.Now()
	c := h.conns[h.closed]
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	buf := make([]byte, 16)
	if n, _ := io.ReadFull(c, buf[:len(`{"ack":0}`+"\n")]); n > 0 {
		h.served++
	}
	c.Close()
	h.closed++
}

func (h *hellos) closeAll() {
	for _, c := range h.conns[h.closed:] {
		c.Close()
	}
	h.closed = len(h.conns)
}

func (h *hellos) String() string {
	return fmt.Sprintf("%d of %d senders gone, %d of them served", h.closed, len(h.conns), h.served)
}

// TestTier2OneHostCannotTakeEverySlot: one host (127.0.0.1) opens more
// connections than the receiver has slots and trickles a byte on each
// now and then; another host (127.0.0.2, loopback too) must still be
// served. The config only lowers max_connections, so the per-peer share is
// the default; before it existed, the first host took every slot.
func TestTier2OneHostCannotTakeEverySlot(t *testing.T) {
	cfjs1Port, metricsPort := testutil.FreeTCPPort(t), testutil.FreeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", cfjs1Port)
	config := strings.Replace(tier2LimitsConfig(cfjs1Port, metricsPort), "max_connections: 1024", "max_connections: 64", 1)
	startCollector(t, "tier2-peers", "", config)
	testutil.WaitFor(t, 30*time.Second, "the receiver to answer a hello", func() bool {
		c, _, err := tier2Hello(addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	const hog = 80
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	for range hog {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for range 120 { // at most a minute
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}()
	}
	// The other host: connected from 127.0.0.2, served.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	if _, err := io.WriteString(c, cfjs1.HelloLineV1+string(cfjs1Line(1, 0))); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`{"ack":0}`, `{"ack":1}`} {
		line, err := br.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != want {
			t.Fatalf("the second host got %q, %v; want %s", line, err, want)
		}
	}
}

// TestTier2LongLinesStayWithinTheByteBudget: 200 connections from ten
// hosts each send most of a 1 MiB line, then pause. Without a budget
// each would hold a buffer of a line (200 MiB); with max_buffered_bytes
// 32 MiB only that much is held beyond each connection's 64 KiB base
// buffer, the rest of the senders wait (TCP back-pressure), and once every
// sender finishes its line, every line is delivered and acknowledged.
func TestTier2LongLinesStayWithinTheByteBudget(t *testing.T) {
	const (
		hosts, perHost = 10, 20
		conns          = hosts * perHost
		budget         = 32 << 20
		base           = 64 << 10
		head           = 1000 << 10 // sent before the pause
	)
	cfjs1Port, metricsPort := testutil.FreeTCPPort(t), testutil.FreeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", cfjs1Port)
	config := strings.Replace(tier2LimitsConfig(cfjs1Port, metricsPort), "max_connections: 1024",
		fmt.Sprintf("max_connections: 1024\n    max_line_size: 1048576\n    max_buffered_bytes: %d", budget), 1)
	col := startCollector(t, "tier2-budget", "", config)
	testutil.WaitFor(t, 30*time.Second, "the receiver to answer a hello", func() bool {
		c, _, err := tier2Hello(addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	rssBefore, err := procStatus(col.pid(), "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	gauge := func() (buffered, reserved, waits float64) {
		m, err := metrics(metricsURL, regexp.MustCompile(`^otelcol_logx_cfjs1_receiver_(buffered_bytes|buffer_reserved_bytes|buffer_waits)`))
		if err != nil {
			return -1, -1, -1
		}
		for name, v := range m {
			switch {
			case strings.Contains(name, "buffer_reserved"):
				reserved = v
			case strings.Contains(name, "buffered_bytes"):
				buffered = v
			case strings.Contains(name, "buffer_waits"):
				waits = v
			}
		}
		return buffered, reserved, waits
	}

	prefix := []byte(`{"format":"syslog","syslog":{"message":"`)
	body := bytes.Repeat([]byte("m"), head-len(prefix))
	rest := append(bytes.Repeat([]byte("m"), 1000), `"}}`+"\n"...)
	type sender struct {
		c  net.Conn
		br *bufio.Reader
	}
	var senders []sender
	for h := range hosts {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(h+1))}, Timeout: 5 * time.Second}
		for range perHost {
			c, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			if _, err := io.WriteString(c, cfjs1.HelloLineV1); err != nil {
				t.Fatal(err)
			}
			senders = append(senders, sender{c, bufio.NewReader(c)})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for _, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.c.Write(append(append([]byte(nil), prefix...), body...))
			errs <- err
		}()
	}
	wg.Wait()
	for range conns {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Every connection is now mid-line: the budget is full and the rest
	// wait.
	var buffered, reserved, waits float64
	testutil.WaitFor(t, 30*time.Second, "the budget to fill", func() bool {
		buffered, reserved, waits = gauge()
		return reserved > budget-(1<<20) && waits > 0
	}, func() string { return fmt.Sprintf("buffered %.0f reserved %.0f waits %.0f", buffered, reserved, waits) })
	rssMid, err := procStatus(col.pid(), "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mid-line: buffered %.1f MiB, reserved %.1f MiB, waits %.0f, RSS %d -> %d MiB",
		buffered/(1<<20), reserved/(1<<20), waits, rssBefore>>10, rssMid>>10)
	if reserved > budget {
		t.Errorf("reserved %.0f bytes, over the budget %d", reserved, budget)
	}
	if limit := float64(budget + conns*base); buffered > limit {
		t.Errorf("connections hold %.0f bytes of unfinished lines, over budget + base buffers %.0f", buffered, limit)
	}

	// Each sender finishes its line: every line is delivered.
	for _, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.c.Write(rest); err != nil {
				errs <- err
				return
			}
			for _, want := range []string{`{"ack":0}`, `{"ack":1}`} {
				l, err := s.br.ReadString('\n')
				if err != nil || strings.TrimSpace(l) != want {
					errs <- fmt.Errorf("got %q, %v; want %s", l, err, want)
					return
				}
			}
			errs <- nil
		}()
	}
	wg.Wait()
	for range conns {
		if err := <-errs; err != nil {
			m, _ := metrics(metricsURL, regexp.MustCompile(`^otelcol_logx_cfjs1_receiver`))
			t.Fatalf("%v (receiver: %v)", err, m)
		}
	}
	hwm, _ := procStatus(col.pid(), "VmHWM")
	t.Logf("all %d lines acknowledged; peak RSS %d MiB", conns, hwm>>10)
	testutil.WaitFor(t, 30*time.Second, "the budget to be given back", func() bool {
		buffered, reserved, _ = gauge()
		return buffered == 0 && reserved == 0
	}, func() string { return fmt.Sprintf("buffered %.0f reserved %.0f", buffered, reserved) })
}
