// Command benchsink is the loopback TCP sink of the benchmarks: it accepts
// any number of connections, counts newline-terminated lines (and among them
// the dead-letter copies), and writes its counts as JSON to a stats file
// every 100 ms and when it is stopped (SIGTERM/SIGINT).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
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
}

type sink struct {
	lines, dead, bytes, first, last atomic.Int64
	marker                          []byte
	blackhole                       atomic.Bool
}

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "TCP address to listen on")
	addrFile := flag.String("addr-file", "", "write the bound address here")
	statsFile := flag.String("stats", "", "write counts as JSON here")
	marker := flag.String("dead-letter-marker", `"dead_letter_for"`, "a line containing this is counted as a dead-letter copy")
	flag.Parse()

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchsink:", err)
		os.Exit(1)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(l.Addr().String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "benchsink:", err)
			os.Exit(1)
		}
	}
	s := &sink{marker: []byte(*marker)}
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
	tick := time.NewTicker(100 * time.Millisecond)
	for {
		select {
		case sig := <-sigs:
			switch sig {
			case syscall.SIGUSR1:
				s.blackhole.Store(true)
				continue
			case syscall.SIGUSR2:
				s.blackhole.Store(false)
				continue
			}
			s.write(*statsFile)
			return
		case <-tick.C:
			s.write(*statsFile)
		}
	}
}

func (s *sink) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 1<<20)
	for {
		for s.blackhole.Load() {
			time.Sleep(10 * time.Millisecond) // not reading is the point
		}
		line, err := r.ReadSlice('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			now := time.Now().UnixNano()
			s.first.CompareAndSwap(0, now)
			s.last.Store(now)
			s.lines.Add(1)
			s.bytes.Add(int64(len(line)))
			if bytes.Contains(line, s.marker) {
				s.dead.Add(1)
			}
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

func (s *sink) write(path string) {
	st := stats{Lines: s.lines.Load(), DeadLetters: s.dead.Load(), Bytes: s.bytes.Load(),
		FirstAt: float64(s.first.Load()) / 1e9, LastAt: float64(s.last.Load()) / 1e9}
	b, _ := json.Marshal(st)
	if path == "" {
		fmt.Println(string(b))
		return
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		_ = os.Rename(tmp, path)
	}
}
