//go:build resilience

package resilience

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The tier-2 collector takes cfjs1 from every edge host, so anything on its
// port is hostile. These tests start the built collector with a cfjs1
// receiver (all limits at their defaults) exporting, by a second cfjs1
// hop, to an acknowledging sink in the test, and send it, each on its own
// connection that says hello version 2, inputs built to be expensive. For
// each input they measure the collector's CPU time per input byte against
// ordinary lines of the same total size in the same run, check that every
// line is settled (acknowledged, and delivered to the sink unless a reject
// line named it, with a reason), and meanwhile a well-behaved sender on
// another connection must get every ack within the exporter's ack.timeout.

const (
	// hostileInputBytes is the size of each input (and of the ordinary
	// references sent before and after each): large enough that the
	// collector's CPU time, read in clock ticks of 10 ms, is measured to
	// within some 5 per cent.
	hostileInputBytes = 16 << 20
	// hostileMaxCostRatio bounds an input's CPU time per byte over the
	// ordinary lines'.
	hostileMaxCostRatio = 5.0
	// hostileAttempts is how many times an input over hostileMaxCostRatio
	// is measured before the test fails.
	hostileAttempts = 3
	// hostileAckTimeout is the cfjs1 exporter's default ack.timeout: an edge
	// host waiting longer for an ack takes tier 2 for dead.
	hostileAckTimeout = time.Second
	// hostileSettle bounds how long one input may take to be settled.
	hostileSettle = 60 * time.Second
)

func hostileTier2Config(cfjs1Port, metricsPort int, sink string) string {
	return fmt.Sprintf(`
receivers:
  cfjs1:
    endpoint: 127.0.0.1:%d
exporters:
  cfjs1:
    endpoints:
      - name: sink
        endpoint: %s
service:
  telemetry:
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
      exporters: [cfjs1]
`, cfjs1Port, sink, metricsPort)
}

// procCPUTicks is the user+system CPU time of process pid so far, in clock
// ticks (fields 14 and 15 of /proc/<pid>/stat).
func procCPUTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	return utime + stime
}

// v2Client is an edge host's connection as the cfjs1 exporter makes it:
// hello version 2, then data lines; a reader takes the acks and rejects.
type v2Client struct {
	c    net.Conn
	sent uint64 // data lines written (writer only)

	mu      sync.Mutex
	acked   uint64
	acks    int
	rejects map[uint64]string
	err     error
	notify  chan struct{} // closed and replaced on every reply
	done    chan struct{}
}

func dialV2Client(addr string) (*v2Client, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	v := &v2Client{c: c, rejects: map[uint64]string{}, notify: make(chan struct{}), done: make(chan struct{})}
	go v.read()
	if err := v.write([]byte(cfjs1.HelloLine), 0); err != nil {
		v.close()
		return nil, err
	}
	if err := v.waitAcked(0, 10*time.Second); err != nil {
		v.close()
		return nil, fmt.Errorf("hello not answered: %w", err)
	}
	return v, nil
}

func (v *v2Client) read() {
	defer close(v.done)
	br := bufio.NewReaderSize(v.c, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		var r cfjs1.Reply
		if err == nil {
			r, err = cfjs1.ParseReply(line)
		}
		v.mu.Lock()
		if err != nil {
			v.err = err
			close(v.notify)
			v.mu.Unlock()
			return
		}
		switch r.Kind {
		case cfjs1.ReplyAck:
			if r.N < v.acked {
				v.err = fmt.Errorf("ack went back from %d to %d", v.acked, r.N)
			}
			v.acked = r.N
			v.acks++
		case cfjs1.ReplyReject:
			if _, dup := v.rejects[r.N]; dup || r.N <= v.acked {
				v.err = fmt.Errorf("reject of line %d repeated or after its ack (%d)", r.N, v.acked)
			}
			v.rejects[r.N] = r.Reason
		}
		close(v.notify)
		v.notify = make(chan struct{})
		v.mu.Unlock()
	}
}

// write sends b, which holds lines data lines.
func (v *v2Client) write(b []byte, lines int) error {
	_ = v.c.SetWriteDeadline(time.Now().Add(hostileSettle))
	_, err := v.c.Write(b)
	v.sent += uint64(lines)
	return err
}

// waitAcked waits until an ack covers line n (for n = 0: the hello's ack).
func (v *v2Client) waitAcked(n uint64, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		v.mu.Lock()
		ok, err, notify := v.acks > 0 && v.acked >= n, v.err, v.notify
		v.mu.Unlock()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-notify:
		case <-timer.C:
			return fmt.Errorf("no ack for line %d within %s", n, d)
		}
	}
}

func (v *v2Client) rejected() map[uint64]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[uint64]string, len(v.rejects))
	for n, r := range v.rejects {
		out[n] = r
	}
	return out
}

func (v *v2Client) close() {
	_ = v.c.Close()
	<-v.done
}

// steadySender is the well-behaved edge host: a few ordinary lines every
// 100 ms, each batch's ack timed.
type steadySender struct {
	v    *v2Client
	stop chan struct{}
	done chan struct{}

	mu        sync.Mutex
	ids       []uint64
	latencies []time.Duration
	err       error
}

func startSteadySender(t *testing.T, addr string, firstID uint64) *steadySender {
	t.Helper()
	v, err := dialV2Client(addr)
	if err != nil {
		t.Fatalf("steady sender: %v", err)
	}
	s := &steadySender{v: v, stop: make(chan struct{}), done: make(chan struct{})}
	go s.run(firstID)
	return s
}

func (s *steadySender) run(id uint64) {
	defer close(s.done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var buf []byte
	// Bounded: 10 minutes of ticks at most, the test ends far sooner.
	for range 6000 {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		buf = buf[:0]
		var ids []uint64
		for range 5 {
			id++
			ids = append(ids, id)
			buf = append(buf, ordinaryLine(id)...)
		}
		start := time.Now()
		err := s.v.write(buf, len(ids))
		if err == nil {
			// Wait well past the timeout so that a late ack is measured,
			// not just missed.
			err = s.v.waitAcked(s.v.sent, 10*hostileAckTimeout)
		}
		s.mu.Lock()
		s.ids = append(s.ids, ids...)
		s.latencies = append(s.latencies, time.Since(start))
		s.err = err
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// finish stops the sender and returns its ids and ack latencies.
func (s *steadySender) finish() ([]uint64, []time.Duration, error) {
	close(s.stop)
	<-s.done
	s.v.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids, s.latencies, s.err
}

// hostileInput is one kind of input: lines returns the lines (each with its
// id) to send; chunk is the size of each write (0: as large as possible).
type hostileInput struct {
	name  string
	lines func(nextID func() uint64) (lines [][]byte, ids []uint64)
	chunk int
	// reference, when set, is what the input is set against instead of
	// ordinary lines of hostileInputBytes sent whole.
	reference func() hostileInput
}

// hostileLine is a cfjs1 line whose message carries the id and attrs the
// members of its attributes object.
func hostileLine(id uint64, name string, message, attrs []byte) []byte {
	b := fmt.Appendf(nil, `{"format":"syslog","syslog":{"message":"req=%016x hostile=%s `, id, name)
	b = append(b, message...)
	b = append(b, `","attributes":{`...)
	b = append(b, attrs...)
	return append(b, "}}}\n"...)
}

// repeatTo builds lines with mk until they hold at least total bytes.
func repeatTo(total int, nextID func() uint64, mk func(id uint64, i int) []byte) ([][]byte, []uint64) {
	var lines [][]byte
	var ids []uint64
	for n, i := 0, 0; n < total; i++ {
		id := nextID()
		l := mk(id, i)
		lines, ids = append(lines, l), append(ids, id)
		n += len(l)
	}
	return lines, ids
}

// keys appends n members `"<key>":1` with distinct short keys (base 36),
// or all the same key when same is set.
func keys(dst []byte, n int, same bool) []byte {
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		if same {
			dst = append(dst, 'k')
		} else {
			dst = strconv.AppendUint(dst, uint64(i), 36)
		}
		dst = append(dst, `":1`...)
	}
	return dst
}

func hostileInputs() []hostileInput {
	line := func(name string, mk func(i int) (message, attrs []byte)) func(func() uint64) ([][]byte, []uint64) {
		return func(nextID func() uint64) ([][]byte, []uint64) {
			return repeatTo(hostileInputBytes, nextID, func(id uint64, i int) []byte {
				m, a := mk(i)
				return hostileLine(id, name, m, a)
			})
		}
	}
	return []hostileInput{
		{name: "flat_10k_keys", lines: line("flat_10k_keys", func(int) ([]byte, []byte) {
			return nil, keys(nil, 10_000, false)
		})},
		{name: "flat_100k_keys", lines: line("flat_100k_keys", func(int) ([]byte, []byte) {
			return nil, keys(nil, 100_000, false)
		})},
		{name: "same_key_100k_times", lines: line("same_key_100k_times", func(int) ([]byte, []byte) {
			return nil, keys(nil, 100_000, true)
		})},
		{name: "nested_100x1000_keys", lines: line("nested_100x1000_keys", func(int) ([]byte, []byte) {
			var a []byte
			for m := range 100 {
				if m > 0 {
					a = append(a, ',')
				}
				a = fmt.Appendf(a, `"m%d":{`, m)
				a = keys(a, 1000, false)
				a = append(a, '}')
			}
			return nil, a
		})},
		{name: "nested_10k_maps_of_10_keys", lines: line("nested_10k_maps_of_10_keys", func(int) ([]byte, []byte) {
			var a []byte
			for m := range 10_000 {
				if m > 0 {
					a = append(a, ',')
				}
				a = append(a, '"')
				a = strconv.AppendUint(a, uint64(m), 36)
				a = append(a, `":{`...)
				a = keys(a, 10, false)
				a = append(a, '}')
			}
			return nil, a
		})},
		{name: "deep_nesting", lines: line("deep_nesting", func(i int) ([]byte, []byte) {
			// 400 000 arrays, or 150 000 objects, one in another.
			open, closing, depth := "[", "]", 400_000
			if i%2 == 1 {
				open, closing, depth = `{"a":`, "}", 150_000
			}
			a := []byte(`"d":`)
			a = append(a, strings.Repeat(open, depth)...)
			a = append(a, '1')
			a = append(a, strings.Repeat(closing, depth)...)
			return nil, a
		})},
		{name: "nesting_at_the_limit", lines: line("nesting_at_the_limit", func(int) ([]byte, []byte) {
			// Many values each nested 60 deep, within every limit:
			// taken, so the whole path to the sink is paid for.
			var a []byte
			for k := range 1500 {
				if k > 0 {
					a = append(a, ',')
				}
				a = fmt.Appendf(a, `"d%d":`, k)
				a = append(a, strings.Repeat("[", 60)...)
				a = append(a, '1')
				a = append(a, strings.Repeat("]", 60)...)
			}
			return nil, a
		})},
		{name: "huge_numbers", lines: line("huge_numbers", func(i int) ([]byte, []byte) {
			switch i % 3 {
			case 0: // one number of 900 000 digits
				return nil, append([]byte(`"n":`), strings.Repeat("9", 900_000)...)
			case 1: // a long mantissa with a huge exponent
				return nil, append(append([]byte(`"n":0.`), strings.Repeat("1", 900_000)...), "e999999999"...)
			default: // many large doubles
				a := []byte(`"n":[`)
				for k := range 40_000 {
					if k > 0 {
						a = append(a, ',')
					}
					a = append(a, "1.7976931348623157e308"...)
				}
				return nil, append(a, ']')
			}
		})},
		{name: "small_distinct_numbers", lines: line("small_distinct_numbers", func(int) ([]byte, []byte) {
			// Just under max_values (100 000): the most values a line may
			// hold, each a distinct short number, each a value of its own
			// in the record (no two alike to share).
			a := []byte(`"n":[`)
			for k := range 99_000 {
				if k > 0 {
					a = append(a, ',')
				}
				a = strconv.AppendInt(a, int64(10_000+k), 10)
			}
			return nil, append(a, ']')
		})},
		{name: "escapes", lines: line("escapes", func(i int) ([]byte, []byte) {
			// 600 kB: on the way out \b and \f take 6 bytes each
			// (\u0008), and the line must stay under the next hop's limit.
			unit := []string{`\u00e9`, `\ud83d\ude00`, `\\\"\/\b\f\n\r\t`, `\ud800x`}[i%4]
			return []byte(strings.Repeat(unit, 600_000/len(unit))), nil
		})},
		{name: "invalid_utf8", lines: line("invalid_utf8", func(int) ([]byte, []byte) {
			// Stray continuation bytes, a cut sequence, an encoded
			// surrogate, an over-long form, then valid text. Short lines:
			// each bad byte comes back as U+FFFD (3 bytes) on the way
			// out, and the line must stay under the next hop's limit.
			unit := "\xff\xfe\xc3(\xed\xa0\x80\xc0\xaf" + "é"
			return []byte(strings.Repeat(unit, (120<<10)/len(unit))), nil
		})},
		{name: "lines_over_the_limit", lines: func(nextID func() uint64) ([][]byte, []uint64) {
			// Sixteen times max_line_size (1 MiB): read to its end, dropped.
			id := nextID()
			return [][]byte{hostileLine(id, "over_limit", bytes.Repeat([]byte("x"), hostileInputBytes), nil)}, []uint64{id}
		}},
		{name: "1MiB_line_in_1_byte_writes", chunk: 1, lines: func(nextID func() uint64) ([][]byte, []uint64) {
			// Just under max_line_size: taken, and delivered. One line
			// only, as each write costs the test some microseconds.
			id := nextID()
			return [][]byte{hostileLine(id, "one_byte_writes", bytes.Repeat([]byte("y"), 1_000_000), nil)}, []uint64{id}
		}, reference: func() hostileInput {
			// What is hostile here is a long line arriving in pieces (a
			// framing decoder that rescans what it holds on every read
			// is quadratic in it), so it is set against the same bytes
			// of ordinary lines arriving the same way. Every segment of
			// a one-byte write costs the kernel and the poller some work
			// whatever the lines are (between 4 and 30 times an ordinary
			// sender's cost per byte here, measured, after the pacing of
			// tiny reads; logged): that is the sender's write pattern,
			// not the line.
			ref := ordinaryInput(1_000_000)
			ref.chunk = 1
			return ref
		}},
	}
}

// selectedHostileInputs is every input, or those LOGX_HOSTILE_INPUTS names
// (comma-separated), to look at one closely.
func selectedHostileInputs(t *testing.T) []hostileInput {
	all := hostileInputs()
	only := os.Getenv("LOGX_HOSTILE_INPUTS")
	if only == "" {
		return all
	}
	var out []hostileInput
	for _, in := range all {
		if slices.Contains(strings.Split(only, ","), in.name) {
			out = append(out, in)
		}
	}
	if len(out) == 0 {
		t.Fatalf("LOGX_HOSTILE_INPUTS=%s names no input", only)
	}
	return out
}

// ordinaryLine is a line as an edge host's exporter writes it for an
// ordinary record: timestamps, severity, message, ten attributes, the host
// as resource, the scope.
func ordinaryLine(id uint64) []byte {
	return fmt.Appendf(nil, `{"format":"nginx","nginx":{"timestamp":"2026-11-22T04:05:06.%09dZ","observed_timestamp":"2026-11-22T04:05:07Z",`+
		`"severity_number":9,"message":"192.0.2.1 - - \"GET /index.html?req=%016x HTTP/1.1\" 200 5120 \"-\" \"curl/8.0\"",`+
		`"attributes":{"logx.service":"nginx.service","cfjs1.format":"nginx","syslog.appname":"nginx","syslog.procid":"%d",`+
		`"syslog.facility":3,"dc":"ams01","unit.status":"active","peer.pid":%d,"sampled":true,"ratio":0.5},`+
		`"resource":{"host.name":"edge-%02d.example.net"},"scope":{"name":"fifo","version":"1.0"}}}`+"\n",
		id%1_000_000_000, id, 1000+id%50, 1000+id%50, id%20)
}

// ordinaryInput is the reference: ordinary lines, totalling size bytes.
func ordinaryInput(size int) hostileInput {
	return hostileInput{name: "ordinary", lines: func(nextID func() uint64) ([][]byte, []uint64) {
		return repeatTo(size, nextID, func(id uint64, _ int) []byte { return ordinaryLine(id) })
	}}
}

// hostileResult is what one input cost and how its lines were settled.
type hostileResult struct {
	name      string
	bytes     int
	ticks     int64
	lines     int
	delivered int
	reasons   map[string]int
	wall      time.Duration
}

// perByte is the input's CPU ticks per byte, less what the collector
// spends in the background (ticks per second) over the same wall time:
// the well-behaved sender and the heartbeats cost the same whatever the
// input, and an input that takes long because the sender is slow (one
// byte per write) must not be charged for them.
func (r hostileResult) perByte(background float64) float64 {
	net := float64(r.ticks) - background*r.wall.Seconds()
	return max(net, 0) / float64(r.bytes)
}

// hostileMeasure is one attempt at an input: the input between two runs
// of its reference, and its cost per byte over theirs.
type hostileMeasure struct {
	before, input, after hostileResult
	ratio                float64
}

// reference is the reference runs' mean cost per byte.
func (m hostileMeasure) reference(background float64) float64 {
	return (m.before.perByte(background) + m.after.perByte(background)) / 2
}

// hostileRun sends one input on its own connection, waits until every
// line is settled and every delivered line is at the sink, and returns the
// collector's CPU time over that span.
func hostileRun(t *testing.T, col *collector, addr, metricsURL string, sink *ackSink, in hostileInput, nextID func() uint64) hostileResult {
	t.Helper()
	lines, ids := in.lines(nextID)
	res := hostileResult{name: in.name, lines: len(lines), reasons: map[string]int{}}
	for _, l := range lines {
		res.bytes += len(l)
	}
	start, cpu0 := time.Now(), procCPUTicks(t, col.pid())
	v, err := dialV2Client(addr)
	if err != nil {
		t.Fatalf("%s: %v", in.name, err)
	}
	defer v.close()
	var werr error
	if in.chunk > 0 {
		for _, l := range lines {
			for i := 0; i < len(l) && werr == nil; i += in.chunk {
				werr = v.write(l[i:min(i+in.chunk, len(l))], 0)
			}
			v.sent++
		}
	} else {
		var buf []byte
		for i, l := range lines {
			buf = append(buf, l...)
			if len(buf) >= 256<<10 || i == len(lines)-1 {
				n := bytes.Count(buf, []byte("\n"))
				if werr = v.write(buf, n); werr != nil {
					break
				}
				buf = buf[:0]
			}
		}
	}
	if werr != nil {
		t.Fatalf("%s: writing: %v (did the collector close the connection?)", in.name, werr)
	}
	if err := v.waitAcked(uint64(len(lines)), hostileSettle); err != nil {
		t.Fatalf("%s: %d lines sent: %v", in.name, len(lines), err)
	}
	rejects := v.rejected()
	var want []uint64
	for i, id := range ids {
		if reason, ok := rejects[uint64(i+1)]; ok {
			res.reasons[reason]++
			continue
		}
		want = append(want, id)
	}
	res.delivered = len(want)
	// fed = delivered + rejected, and what is not rejected is delivered:
	// it reaches the sink behind the collector.
	if res.delivered+len(rejects) != len(lines) {
		t.Errorf("%s: %d lines fed, %d delivered + %d rejected", in.name, len(lines), res.delivered, len(rejects))
	}
	testutil.WaitFor(t, hostileSettle, in.name+": delivered lines at the sink", func() bool {
		n, _ := hostileMissing(sink, want)
		return n == 0
	}, func() string {
		n, first := hostileMissing(sink, want)
		var pos []int
		for _, id := range first {
			for i := range ids {
				if ids[i] == id {
					pos = append(pos, i)
				}
			}
		}
		m, _ := metrics(metricsURL, hostileDropMetrics)
		return fmt.Sprintf("%d of %d missing, first %v (lines %v of the input); drop counters %v", n, len(want), first, pos, m)
	})
	res.ticks = procCPUTicks(t, col.pid()) - cpu0
	res.wall = time.Since(start)
	return res
}

// hostileDropMetrics matches the counters of lines dropped on the way.
var hostileDropMetrics = regexp.MustCompile(`^otelcol_logx_cfjs1_(receiver|exporter)_(dropped|rejected)`)

func TestHostileInputTier2(t *testing.T) {
	binary(t)
	sink := newAckSink(t, "127.0.0.1:0")
	port, metricsPort := testutil.FreeTCPPort(t), testutil.FreeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	col := startCollector(t, "tier2", "", hostileTier2Config(port, metricsPort, sink.addr()))
	testutil.WaitFor(t, 30*time.Second, "the cfjs1 receiver", func() bool {
		v, err := dialV2Client(addr)
		if err == nil {
			v.close()
		}
		return err == nil
	})

	var next uint64 = 1 << 40
	nextID := func() uint64 { next++; return next }
	steady := startSteadySender(t, addr, 1<<20)
	// What the collector spends with only the well-behaved sender and its
	// own heartbeats, per second: part of every measurement below, for as
	// long as it lasts (see perByte).
	idle0, idleStart := procCPUTicks(t, col.pid()), time.Now()
	<-time.After(3 * time.Second)
	background := float64(procCPUTicks(t, col.pid())-idle0) / time.Since(idleStart).Seconds()
	t.Logf("background: %.1f ticks/s", background)

	run := func(in hostileInput) hostileResult {
		r := hostileRun(t, col, addr, metricsURL, sink, in, nextID)
		if !col.running() {
			t.Fatalf("the collector exited after %s: %v", in.name, col.err)
		}
		return r
	}
	// Each input is set against ordinary lines sent just before and just
	// after it: the CPU time the same work takes drifts on a shared
	// machine, and a neighbour in time shares its conditions.
	reference := func(in hostileInput) hostileInput {
		if in.reference != nil {
			return in.reference()
		}
		return ordinaryInput(hostileInputBytes)
	}
	// An input is measured again, up to hostileAttempts times, while its
	// ratio is over the bound: on a shared machine a neighbour's burst
	// only ever adds CPU time to one side of a ratio, so the least of the
	// attempts is the measure (a superlinear decoder is over the bound in
	// every one of them, by far).
	inputs := selectedHostileInputs(t)
	best := make([]hostileMeasure, len(inputs))
	totalRejected := 0
	for i, in := range inputs {
		for attempt := 1; attempt <= hostileAttempts; attempt++ {
			m := hostileMeasure{before: run(reference(in)), input: run(in), after: run(reference(in))}
			m.ratio = m.input.perByte(background) / m.reference(background)
			for _, o := range []hostileResult{m.before, m.after} {
				if o.delivered != o.lines {
					t.Errorf("ordinary lines rejected: %v", o.reasons)
				}
			}
			for _, n := range m.input.reasons {
				totalRejected += n
			}
			if attempt > 1 {
				t.Logf("%s: attempt %d: %.2fx", in.name, attempt, m.ratio)
			}
			if attempt == 1 || m.ratio < best[i].ratio {
				best[i] = m
			}
			if best[i].ratio <= hostileMaxCostRatio {
				break
			}
		}
	}

	steadyIDs, latencies, steadyErr := steady.finish()
	if steadyErr != nil {
		t.Errorf("well-behaved sender: %v", steadyErr)
	}

	// Inputs set against ordinary lines sent their own way are also shown
	// against ordinary lines written whole: for one-byte writes the
	// difference is the write pattern's own cost (segments, wakeups,
	// pauses), whatever the lines.
	var whole []float64
	for i, in := range inputs {
		if in.reference == nil {
			whole = append(whole, best[i].before.perByte(background), best[i].after.perByte(background))
		}
	}
	wholeRef := 0.0
	for _, w := range whole {
		wholeRef += w / float64(len(whole))
	}

	for i, m := range best {
		r := m.input
		t.Logf("%-28s %3d lines %8d bytes %4d ticks (ordinary %2d, %2d)  %5.2fx ordinary per byte  wall %6s  delivered %d  rejected %v",
			r.name, r.lines, r.bytes, r.ticks, m.before.ticks, m.after.ticks, m.ratio, r.wall.Round(time.Millisecond), r.delivered, r.reasons)
		if inputs[i].reference != nil && wholeRef > 0 {
			t.Logf("%-28s %5.1fx ordinary lines written whole, per byte", r.name, r.perByte(background)/wholeRef)
		}
		if m.ratio > hostileMaxCostRatio {
			t.Errorf("%s: %.2fx the CPU per byte of ordinary lines in the least of %d attempts (limit %.0fx)",
				r.name, m.ratio, hostileAttempts, hostileMaxCostRatio)
		}
	}

	// The well-behaved host was answered in time throughout, and all its
	// lines arrived.
	sorted := append([]time.Duration(nil), latencies...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	if len(sorted) == 0 {
		t.Fatal("the well-behaved sender sent nothing")
	}
	t.Logf("well-behaved sender: %d batches, ack latency median %s, p99 %s, max %s", len(sorted),
		sorted[len(sorted)/2], sorted[len(sorted)*99/100], sorted[len(sorted)-1])
	for i, l := range latencies {
		if l > hostileAckTimeout {
			t.Errorf("well-behaved sender: batch %d acknowledged after %s (ack.timeout %s)", i, l, hostileAckTimeout)
		}
	}
	testutil.WaitFor(t, 30*time.Second, "the well-behaved sender's lines at the sink", func() bool {
		n, _ := hostileMissing(sink, steadyIDs)
		return n == 0
	})

	// What the senders were told matches what the collector counted: each
	// line it dropped was rejected to its sender, and its exporter dropped
	// nothing on the way to the sink.
	url := metricsURL
	var m map[string]float64
	testutil.WaitFor(t, 30*time.Second, "the drop counters", func() bool {
		var err error
		m, err = metrics(url, hostileDropMetrics)
		return err == nil && hostileSumPrefix(m, "otelcol_logx_cfjs1_receiver_dropped") == float64(totalRejected)
	}, func() string { return fmt.Sprintf("metrics %v, rejects seen by the senders %d", m, totalRejected) })
	for name, v := range m {
		if strings.HasPrefix(name, "otelcol_logx_cfjs1_exporter_") && v != 0 {
			t.Errorf("%s = %v: the collector's exporter lost lines on the way to the sink", name, v)
		}
	}
	if !col.running() {
		t.Fatalf("the collector exited: %v", col.err)
	}
	if hwm, err := procStatus(col.pid(), "VmHWM"); err == nil {
		t.Logf("collector peak RSS %d MiB", hwm>>10)
	}
}

// hostileSumPrefix sums the samples whose name starts with prefix (the Prometheus
// exporter may add a _total suffix).
func hostileSumPrefix(m map[string]float64, prefix string) float64 {
	var sum float64
	for name, v := range m {
		if strings.HasPrefix(name, prefix) {
			sum += v
		}
	}
	return sum
}

// hostileMissing counts the ids in want that the sink has not had directly,
// under its lock rather than on a copy: the sink holds every line of the run.
func hostileMissing(sink *ackSink, want []uint64) (int, []uint64) {
	sink.mu.Lock()
	defer sink.mu.Unlock()
	return sink.direct.missing(want)
}
