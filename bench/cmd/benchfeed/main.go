// Command benchfeed streams a file of lines into a unix stream socket or a
// FIFO, as fast as it can or at a fixed rate, and reports how long its writes
// were blocked: the measure of whether a log daemon ever stalls its writers.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

type result struct {
	Lines           int64   `json:"lines"`
	Bytes           int64   `json:"bytes"`
	Seconds         float64 `json:"seconds"`
	MaxWriteMS      float64 `json:"max_write_ms"`
	WritesOver100ms int64   `json:"writes_over_100ms"`
}

func main() {
	in := flag.String("in", "bench/out/lines.txt", "input file, one line per record")
	unixPath := flag.String("unix", "", "unix stream socket to write to")
	fifoPath := flag.String("fifo", "", "FIFO to write to")
	rate := flag.Int("rate", 0, "lines per second (0: as fast as possible)")
	chunk := flag.Int("chunk", 64, "lines per write(2) call when unthrottled")
	flag.Parse()

	res, err := run(*in, *unixPath, *fifoPath, *rate, *chunk)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchfeed:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func run(in, unixPath, fifoPath string, rate, chunk int) (result, error) {
	var w io.WriteCloser
	var err error
	switch {
	case unixPath != "":
		w, err = net.Dial("unix", unixPath)
	case fifoPath != "":
		w, err = os.OpenFile(fifoPath, os.O_WRONLY, 0)
	default:
		return result{}, fmt.Errorf("give -unix or -fifo")
	}
	if err != nil {
		return result{}, err
	}
	defer w.Close()

	f, err := os.Open(in)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(bufio.NewReaderSize(f, 1<<20))
	sc.Buffer(make([]byte, 64<<10), 64<<10)

	perWrite := chunk
	var interval time.Duration
	if rate > 0 {
		// Pace in slices of 1 ms worth of lines.
		perWrite = max(1, rate/1000)
		interval = time.Duration(perWrite) * time.Second / time.Duration(rate)
	}
	var res result
	buf := make([]byte, 0, 256*perWrite)
	start := time.Now()
	next := start
	flush := func() error {
		t0 := time.Now()
		_, err := w.Write(buf)
		d := time.Since(t0)
		if ms := float64(d) / float64(time.Millisecond); ms > res.MaxWriteMS {
			res.MaxWriteMS = ms
		}
		if d > 100*time.Millisecond {
			res.WritesOver100ms++
		}
		res.Bytes += int64(len(buf))
		buf = buf[:0]
		return err
	}
	pending := 0
	for sc.Scan() {
		buf = append(buf, sc.Bytes()...)
		buf = append(buf, '\n')
		res.Lines++
		pending++
		if pending < perWrite {
			continue
		}
		pending = 0
		if err := flush(); err != nil {
			return res, err
		}
		if interval > 0 {
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d) // pacing the load, not synchronisation
			}
		}
	}
	if len(buf) > 0 {
		if err := flush(); err != nil {
			return res, err
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, sc.Err()
}
