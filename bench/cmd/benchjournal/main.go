// Command benchjournal writes the input of scenario S5: real journal files,
// made by systemd-journal-remote from export-format entries, as a host's
// journald would have them. Each entry has 9 fields (the two timestamps,
// _BOOT_ID, _HOSTNAME, _SYSTEMD_UNIT, SYSLOG_IDENTIFIER, _PID, PRIORITY and
// a ~150-byte MESSAGE with a unique req=<16 hex> id), from 50 services
// (-services) interleaved at random, as on a host.
//
// With -n it writes that many entries (the backlog read "at saturation").
// With -rate and -seconds it appends every -every (default 100 ms) a batch
// of rate×every entries with new runs of systemd-journal-remote, as
// journald appends while the receiver follows the files; it reports the
// rate it achieved. systemd-journal-remote costs about 50 µs of CPU per
// entry, so one process writes at most ~20,000 entries/s: -writers splits
// each batch over that many processes, each appending to its own file
// (DIR/bench-<i>.journal; journalctl interleaves the files by time). Use
// several writers for a backlog only: a reader following several files
// skips entries appended to one file behind what it already read from
// another (journalctl moves forward in the merged order), so concurrent
// appends to several files lose entries that one journald would not.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

type result struct {
	Entries     int64   `json:"entries"`
	Appends     int64   `json:"appends"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"entries_per_s"`
	MaxAppendMS float64 `json:"max_append_ms"`
}

var verbs = []string{"GET", "POST", "PUT", "DELETE"}
var paths = []string{"/api/v1/items", "/healthz", "/api/v1/users/profile", "/static/app.js", "/api/v2/orders/search"}

type gen struct {
	r        *rand.Rand
	services int
	boot     string
}

// monotonicMicros is CLOCK_MONOTONIC in µs, as journald stamps
// __MONOTONIC_TIMESTAMP: the same clock in every writer process, so that
// journalctl orders the entries of several files of one boot consistently.
func monotonicMicros() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano() / 1e3
}

// entry writes one export-format entry.
func (g *gen) entry(w io.Writer, now time.Time) {
	svc := g.r.IntN(g.services)
	prio := 6
	if g.r.IntN(20) == 0 {
		prio = 3
	}
	_, _ = fmt.Fprintf(w, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n_HOSTNAME=bench-host-1\n"+
		"_SYSTEMD_UNIT=svc%02d.service\nSYSLOG_IDENTIFIER=svc%02d\n_PID=%d\nPRIORITY=%d\n"+
		"MESSAGE=req=%016x %s %s status=%d dur_ms=%d bytes=%d user=u%06d span=%016x client=10.%d.%d.%d\n\n",
		now.UnixMicro(), monotonicMicros(), g.boot, svc, svc, 1000+svc, prio,
		g.r.Uint64(), verbs[g.r.IntN(len(verbs))], paths[g.r.IntN(len(paths))], 200+100*g.r.IntN(4),
		g.r.IntN(2000), g.r.IntN(1<<20), g.r.IntN(1_000_000), g.r.Uint64(), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256))
}

func main() {
	dir := flag.String("dir", "", "directory of the journal files to write or append to")
	writers := flag.Int("writers", 1, "systemd-journal-remote processes (and files) at once")
	n := flag.Int64("n", 0, "write this many entries in one run")
	rate := flag.Int("rate", 0, "append at this many entries per second")
	seconds := flag.Float64("seconds", 0, "with -rate: for this long")
	every := flag.Duration("every", 100*time.Millisecond, "with -rate: one append (one systemd-journal-remote run) this often")
	remote := flag.String("remote", "/lib/systemd/systemd-journal-remote", "systemd-journal-remote binary")
	seed := flag.Uint64("seed", 1, "random seed")
	services := flag.Int("services", 50, "number of distinct services (units), interleaved at random as on a host")
	flag.Parse()
	if *dir == "" || *writers < 1 || (*n <= 0 && (*rate <= 0 || *seconds <= 0)) {
		fmt.Fprintln(os.Stderr, "benchjournal: give -dir and either -n or -rate with -seconds")
		os.Exit(2)
	}
	gens := make([]*gen, *writers)
	for i := range gens {
		gens[i] = &gen{r: rand.New( //nolint:gosec // G404: made-up log lines, not secrets
			rand.NewPCG(*seed+uint64(i), uint64(time.Now().UnixNano()))), boot: "0123456789abcdef0123456789abcdef", services: max(1, *services)}
	}
	var res result
	start := time.Now()
	var err error
	if *n > 0 {
		err = appendAll(*remote, *dir, gens, *n, &res)
	} else {
		perAppend := max(1, int64(float64(*rate)*every.Seconds()))
		total := int64(float64(*rate) * *seconds)
		next := start
		for res.Entries < total && err == nil {
			err = appendAll(*remote, *dir, gens, min(perAppend, total-res.Entries), &res)
			next = next.Add(*every)
			if d := time.Until(next); d > 0 {
				time.Sleep(d) // pacing the load, not synchronisation
			}
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.PerSecond = float64(res.Entries) / res.Seconds
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchjournal:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

// appendAll appends n entries split over the writers, one
// systemd-journal-remote run each, at once.
func appendAll(remote, dir string, gens []*gen, n int64, res *result) error {
	t0 := time.Now()
	errs := make(chan error, len(gens))
	for i, g := range gens {
		part := n / int64(len(gens))
		if i == 0 {
			part += n % int64(len(gens))
		}
		go func() { errs <- appendEntries(remote, filepath.Join(dir, fmt.Sprintf("bench-%d.journal", i)), g, part) }()
	}
	var err error
	for range gens {
		err = errors.Join(err, <-errs)
	}
	if err != nil {
		return err
	}
	res.Entries += n
	res.Appends++
	if ms := float64(time.Since(t0)) / float64(time.Millisecond); ms > res.MaxAppendMS {
		res.MaxAppendMS = ms
	}
	return nil
}

// appendEntries pipes n entries into one run of systemd-journal-remote.
func appendEntries(remote, out string, g *gen, n int64) error {
	if n == 0 {
		return nil
	}
	cmd := exec.Command(remote, "--output="+out, "-") //nolint:gosec // G204: the benchmark's own tool and file, from its flags
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(in, 1<<20)
	for i := int64(0); i < n; i++ {
		g.entry(w, time.Now())
	}
	werr := w.Flush()
	cerr := in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("systemd-journal-remote: %w", err)
	}
	if werr != nil {
		return werr
	}
	return cerr
}
