// Command benchfeed writes lines into a unix stream socket, a unix datagram
// socket (as syslog(3) writes /dev/log) or a FIFO, as fast as it can or at a
// fixed rate, and reports how long its writes were blocked: the measure of
// whether a log daemon ever stalls its writers.
//
// At a fixed rate the lines go out every millisecond in a burst of
// rate/1000 lines (at lower rates one line every 1000/rate ms), so the load
// is spread evenly over the second rather than bunched. -per-write 1 makes
// each line its own write(2) (or datagram), the way applications log; a
// datagram always carries one line.
//
// With -stamp each line's request id (req=<16 hex>) is replaced by the time
// it is written (Unix nanoseconds, 16 hex digits): benchsink -latency then
// measures each line's end-to-end latency.
//
// The input file is read into memory once; with -seconds or -lines beyond
// its length it is sent again from the top (the sink counts lines, so
// repeats are harmless). The run is bounded by -seconds, -lines or, when
// neither is given, the file's length.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"time"
)

type result struct {
	Lines           int64   `json:"lines"`
	Writes          int64   `json:"writes"`
	Bytes           int64   `json:"bytes"`
	Seconds         float64 `json:"seconds"`
	LinesPerSecond  float64 `json:"lines_per_s"`
	MaxWriteMS      float64 `json:"max_write_ms"`
	P99WriteUS      float64 `json:"p99_write_us"`
	WritesOver100ms int64   `json:"writes_over_100ms"`
	// SendErrors counts failed datagram sends (the receiver was gone or
	// refused); a stream or FIFO write error ends the run.
	SendErrors int64 `json:"send_errors"`
}

type options struct {
	in                        string
	unixPath, dgramPath, fifo string
	rate, chunk, perWrite     int
	seconds                   float64
	maxLines                  int64
	stamp                     bool
}

func main() {
	var o options
	flag.StringVar(&o.in, "in", "bench/out/lines.txt", "input file, one line per record")
	flag.StringVar(&o.unixPath, "unix", "", "unix stream socket to write to")
	flag.StringVar(&o.dgramPath, "dgram", "", "unix datagram socket to send to, one line per datagram")
	flag.StringVar(&o.fifo, "fifo", "", "FIFO to write to")
	flag.IntVar(&o.rate, "rate", 0, "lines per second (0: as fast as possible)")
	flag.IntVar(&o.chunk, "chunk", 64, "lines per write(2) call when unthrottled and -per-write is 0")
	flag.IntVar(&o.perWrite, "per-write", 0, "lines per write(2) call; 0: -chunk unthrottled, one millisecond's worth at a fixed rate")
	flag.Float64Var(&o.seconds, "seconds", 0, "stop after this long (at a fixed rate: after rate×seconds lines); 0: no time bound")
	flag.Int64Var(&o.maxLines, "lines", 0, "stop after this many lines (0: the input file's length, unless -seconds is given)")
	flag.BoolVar(&o.stamp, "stamp", false, "replace each line's req=<16 hex> by the time it is written, for benchsink -latency")
	flag.Parse()

	res, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchfeed:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func run(o options) (result, error) {
	data, err := os.ReadFile(o.in)
	if err != nil {
		return result{}, err
	}
	lines := splitLines(data)
	if len(lines) == 0 {
		return result{}, fmt.Errorf("%s has no lines", o.in)
	}
	w, dgram, err := dial(o)
	if err != nil {
		return result{}, err
	}
	defer func() { _ = w.Close() }() // the feeder's end: what was written is counted already

	start := time.Now()
	pl := newPlan(o, len(lines), dgram, start)
	f := &feeder{w: w, dgram: dgram, lat: make([]time.Duration, 0, 1<<16), buf: make([]byte, 0, 256*pl.perWrite)}
	if err := f.feed(o, pl, lines, start); err != nil {
		return f.res, err
	}
	f.finish(start)
	return f.res, nil
}

// dial opens the socket or FIFO the options name; dgram says whether it
// takes one line per datagram.
func dial(o options) (w io.WriteCloser, dgram bool, err error) {
	switch {
	case o.unixPath != "":
		w, err = net.Dial("unix", o.unixPath)
	case o.dgramPath != "":
		w, err = net.Dial("unixgram", o.dgramPath)
		dgram = true
	case o.fifo != "":
		w, err = os.OpenFile(o.fifo, os.O_WRONLY, 0)
	default:
		return nil, false, fmt.Errorf("give -unix, -dgram or -fifo")
	}
	if err != nil {
		return nil, false, err
	}
	return w, dgram, nil
}

// plan is how a run goes: how many lines (-1: until the deadline), how many
// per pacing interval and per write, and when to stop at the latest.
type plan struct {
	total             int64
	perTick, perWrite int
	interval          time.Duration
	deadline          time.Time
}

func newPlan(o options, nLines int, dgram bool, start time.Time) plan {
	total := o.maxLines
	if total == 0 {
		switch {
		case o.seconds > 0 && o.rate > 0:
			total = int64(o.seconds * float64(o.rate))
		case o.seconds > 0:
			total = -1 // bounded by time only
		default:
			total = int64(nLines)
		}
	}
	perTick := 1 // lines per pacing interval
	var interval time.Duration
	if o.rate > 0 {
		perTick = max(1, o.rate/1000)
		interval = time.Duration(perTick) * time.Second / time.Duration(o.rate)
	}
	perWrite := o.perWrite
	switch {
	case dgram:
		perWrite = 1
	case perWrite > 0:
	case o.rate > 0:
		perWrite = perTick
	default:
		perWrite = o.chunk
	}
	var deadline time.Time
	if o.seconds > 0 {
		// At a fixed rate the line count bounds the run; the deadline (with
		// slack) only stops a feeder that fell far behind.
		slack := 1.0
		if o.rate > 0 {
			slack = 1.5
		}
		deadline = start.Add(time.Duration(o.seconds * slack * float64(time.Second)))
	}
	return plan{total: total, perTick: perTick, perWrite: perWrite, interval: interval, deadline: deadline}
}

// feeder writes the lines and measures its writes.
type feeder struct {
	w     io.WriteCloser
	dgram bool
	res   result
	lat   []time.Duration
	buf   []byte
}

// feed writes the lines as the plan says, paced at a fixed rate.
func (f *feeder) feed(o options, pl plan, lines [][]byte, start time.Time) error {
	res := &f.res
	total, perTick, perWrite, interval, deadline := pl.total, pl.perTick, pl.perWrite, pl.interval, pl.deadline
	next := start
	inTick, inWrite := 0, 0
	for i := 0; total < 0 || res.Lines < total; i++ {
		f.appendLine(lines[i%len(lines)], o.stamp)
		res.Lines++
		inWrite++
		inTick++
		last := total >= 0 && res.Lines == total
		endOfTick := interval > 0 && inTick >= perTick
		if inWrite >= perWrite || endOfTick || last {
			inWrite = 0
			if err := f.write(); err != nil {
				return err
			}
			if !deadline.IsZero() && (interval == 0 || endOfTick) && time.Now().After(deadline) {
				break
			}
		}
		if endOfTick {
			inTick = 0
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d) // pacing the load, not synchronisation
			}
		}
	}
	if len(f.buf) > 0 {
		if err := f.write(); err != nil {
			return err
		}
	}
	return nil
}

// appendLine adds one line to the write buffer: without its newline for a
// datagram, with the time written in place of its request id with -stamp.
func (f *feeder) appendLine(line []byte, stamp bool) {
	if f.dgram {
		line = line[:len(line)-1] // a datagram is one message, no newline
	}
	if stamp {
		if j := bytes.Index(line, reqPrefix); j >= 0 && len(line) >= j+4+16 {
			n := len(f.buf)
			f.buf = append(f.buf, line...)
			putHex16(f.buf[n+j+4:n+j+4+16], uint64(time.Now().UnixNano()))
		} else {
			f.buf = append(f.buf, line...)
		}
	} else {
		f.buf = append(f.buf, line...)
	}
}

// write sends the buffer in one write(2) and measures how long it blocked.
func (f *feeder) write() error {
	res := &f.res
	t0 := time.Now()
	_, err := f.w.Write(f.buf)
	d := time.Since(t0)
	res.Writes++
	if len(f.lat) < cap(f.lat) {
		f.lat = append(f.lat, d)
	} else if res.Writes%16 == 0 {
		f.lat[res.Writes/16%int64(len(f.lat))] = d // a sample of the rest
	}
	if ms := float64(d) / float64(time.Millisecond); ms > res.MaxWriteMS {
		res.MaxWriteMS = ms
	}
	if d > 100*time.Millisecond {
		res.WritesOver100ms++
	}
	res.Bytes += int64(len(f.buf))
	f.buf = f.buf[:0]
	if err != nil && f.dgram && !errors.Is(err, io.ErrClosedPipe) {
		res.SendErrors++
		if res.SendErrors > 1000 && res.SendErrors == res.Writes {
			return err
		}
		return nil
	}
	return err
}

// finish works out the rate and the 99th percentile write time.
func (f *feeder) finish(start time.Time) {
	res := &f.res
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.LinesPerSecond = float64(res.Lines) / res.Seconds
	}
	if len(f.lat) > 0 {
		slices.Sort(f.lat)
		res.P99WriteUS = float64(f.lat[len(f.lat)*99/100]) / float64(time.Microsecond)
	}
}

var reqPrefix = []byte("req=")

// putHex16 writes v as 16 lower-case hex digits into b.
func putHex16(b []byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
}

// splitLines returns the lines of data, each with its newline.
func splitLines(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			out = append(out, append(data, '\n'))
			break
		}
		if i > 0 {
			out = append(out, data[:i+1])
		}
		data = data[i+1:]
	}
	return out
}
