// Command benchsink is the loopback TCP sink of the benchmarks: it accepts
// any number of connections, counts newline-terminated lines (and among them
// the dead-letter copies), and writes its counts as JSON to a stats file
// every -interval (100 ms) and when it is stopped (SIGTERM/SIGINT).
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type stats struct {
	Lines       int64   `json:"lines"`
	DeadLetters int64   `json:"dead_letters"`
	Bytes       int64   `json:"bytes"`
	FirstAt     float64 `json:"first_at_unix"`
	LastAt      float64 `json:"last_at_unix"`
	// FirstDeadAt is when the first dead-letter copy arrived: with the
	// moment the other endpoint was black-holed, the time to detect.
	FirstDeadAt float64 `json:"first_dead_letter_at_unix"`
	// BlackholedAt is when SIGUSR1 last black-holed this sink (0: never).
	BlackholedAt float64 `json:"blackholed_at_unix"`
	// With -latency: end-to-end latency of the lines stamped by benchfeed
	// -stamp (their req= field is the time they were written), in ms.
	LatencyLines int64   `json:"latency_lines,omitempty"`
	LatencyP50MS float64 `json:"latency_p50_ms,omitempty"`
	LatencyP99MS float64 `json:"latency_p99_ms,omitempty"`
	LatencyMaxMS float64 `json:"latency_max_ms,omitempty"`
}

type sink struct {
	lines, dead, bytes, first, last atomic.Int64
	firstDead, blackholedAt         atomic.Int64
	marker                          []byte
	blackhole                       atomic.Bool

	// With -ids: the benchgen request id (req=<16 hex>) of every line,
	// direct and dead-letter apart, written to <ids>.direct / <ids>.dead at
	// stop, so that benchids can tell duplicates from losses.
	collectIDs bool
	ack        bool
	latency    *latencies
	idsMu      sync.Mutex
	direct     []uint64
	deadIDs    []uint64
}

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "TCP address to listen on")
	addrFile := flag.String("addr-file", "", "write the bound address here")
	statsFile := flag.String("stats", "", "write counts as JSON here")
	ack := flag.Bool("ack", false, "speak the cfjs1 acknowledgement protocol (docs/cfjs1.md) to senders that open with hello")
	idsFile := flag.String("ids", "", "write the request ids of the lines to FILE.direct and FILE.dead at stop")
	marker := flag.String("dead-letter-marker", `"dead_letter_for"`, "a line containing this is counted as a dead-letter copy")
	interval := flag.Duration("interval", 100*time.Millisecond, "write the stats file this often")
	latency := flag.Bool("latency", false, "read each line's req=<16 hex> as the Unix nanoseconds it was written (benchfeed -stamp) and report end-to-end latency")
	flag.Parse()

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsink:", err)
		os.Exit(1)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(l.Addr().String()), 0o644); err != nil { //nolint:gosec // G306: an address for the benchmark script
			fmt.Fprintln(os.Stderr, "benchsink:", err)
			os.Exit(1)
		}
	}
	s := &sink{marker: []byte(*marker), collectIDs: *idsFile != "", ack: *ack}
	if *latency {
		s.latency = &latencies{}
	}
	// SIGUSR1 black-holes the sink: it keeps connections open but stops
	// reading (a half-alive peer); SIGUSR2 resumes.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	tick := time.NewTicker(*interval)
	for {
		select {
		case sig := <-sigs:
			switch sig {
			case syscall.SIGUSR1:
				s.blackholedAt.Store(time.Now().UnixNano())
				s.blackhole.Store(true)
				s.write(*statsFile)
				continue
			case syscall.SIGUSR2:
				s.blackhole.Store(false)
				continue
			}
			s.write(*statsFile)
			if *idsFile != "" {
				if err := s.writeIDs(*idsFile); err != nil {
					fmt.Fprintln(os.Stderr, "benchsink:", err)
					os.Exit(1)
				}
			}
			return
		case <-tick.C:
			s.write(*statsFile)
		}
	}
}

var (
	ctlPrefix = []byte(`{"cfjs1_ctl":`)
	helloCtl  = []byte(`"hello"`)
)

func (s *sink) serve(c net.Conn) {
	defer c.Close() //nolint:errcheck // benchmark sink: the connection is done
	r := bufio.NewReaderSize(c, 1<<20)
	// With -ack and a hello: data lines are numbered from 1 and acknowledged
	// cumulatively whenever everything read so far has been counted.
	acking := false
	var seq, acked uint64
	sendAck := func() bool {
		_, err := fmt.Fprintf(c, "{\"ack\":%d}\n", seq)
		acked = seq
		return err == nil
	}
	for {
		for s.blackhole.Load() {
			time.Sleep(10 * time.Millisecond) // not reading is the point
		}
		line, err := r.ReadSlice('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			switch {
			case s.ack && bytes.HasPrefix(line, ctlPrefix):
				if bytes.Contains(line, helloCtl) {
					acking, seq = true, 0
				}
				if acking && !sendAck() { // hello and ping are answered at once
					return
				}
			default:
				s.count(line)
				if acking {
					seq++
				}
			}
		}
		if acking && seq != acked && r.Buffered() == 0 && !sendAck() {
			return
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

func (s *sink) count(line []byte) {
	now := time.Now().UnixNano()
	s.first.CompareAndSwap(0, now)
	s.last.Store(now)
	s.lines.Add(1)
	s.bytes.Add(int64(len(line)))
	isDead := bytes.Contains(line, s.marker)
	if isDead {
		s.dead.Add(1)
		s.firstDead.CompareAndSwap(0, now)
	}
	if s.collectIDs {
		s.recordID(line, isDead)
	}
	if s.latency != nil {
		if id, ok := reqID(line); ok {
			s.latency.record(now - int64(id)) //nolint:gosec // G115: the feeder's send time in unix nanoseconds, below 2^63
		}
	}
}

func (s *sink) write(path string) {
	st := stats{Lines: s.lines.Load(), DeadLetters: s.dead.Load(), Bytes: s.bytes.Load(),
		FirstAt: float64(s.first.Load()) / 1e9, LastAt: float64(s.last.Load()) / 1e9,
		FirstDeadAt: float64(s.firstDead.Load()) / 1e9, BlackholedAt: float64(s.blackholedAt.Load()) / 1e9}
	if s.latency != nil {
		st.LatencyLines, st.LatencyP50MS, st.LatencyP99MS, st.LatencyMaxMS = s.latency.summary()
	}
	b, _ := json.Marshal(st)
	if path == "" {
		fmt.Println(string(b))
		return
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil { //nolint:gosec // G306: benchmark results, for anyone to read
		_ = os.Rename(tmp, path)
	}
}

var reqPrefix = []byte("req=")

// reqID is the line's request id (req=<16 hex>).
func reqID(line []byte) (uint64, bool) {
	i := bytes.Index(line, reqPrefix)
	if i < 0 || len(line) < i+4+16 {
		return 0, false
	}
	id, err := strconv.ParseUint(string(line[i+4:i+4+16]), 16, 64)
	return id, err == nil
}

// recordID keeps the line's request id (lines without one are not kept).
func (s *sink) recordID(line []byte, isDead bool) {
	id, ok := reqID(line)
	if !ok {
		return
	}
	s.idsMu.Lock()
	if isDead {
		s.deadIDs = append(s.deadIDs, id)
	} else {
		s.direct = append(s.direct, id)
	}
	s.idsMu.Unlock()
}

func (s *sink) writeIDs(path string) error {
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	for suffix, ids := range map[string][]uint64{".direct": s.direct, ".dead": s.deadIDs} {
		b := make([]byte, 8*len(ids))
		for i, id := range ids {
			binary.LittleEndian.PutUint64(b[8*i:], id)
		}
		if err := os.WriteFile(path+suffix, b, 0o644); err != nil { //nolint:gosec // G306: benchmark results, for anyone to read
			return err
		}
	}
	return nil
}
