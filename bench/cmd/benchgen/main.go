// Command benchgen writes a file of realistic syslog lines in the local
// /dev/log form (RFC 3164 without a hostname, as syslog(3) sends it), about
// 180 bytes each, spread over a number of services: the input of the
// side-by-side benchmarks. The output is deterministic for a given seed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

var verbs = []string{"GET", "POST", "PUT", "DELETE"}
var paths = []string{"/api/v1/items", "/healthz", "/api/v1/users/profile", "/static/app.js", "/api/v2/orders/search"}
var outcomes = []string{"ok", "cache miss", "upstream slow", "retrying", "client closed"}

func main() {
	n := flag.Int("n", 2_000_000, "number of lines")
	services := flag.Int("services", 50, "number of distinct services")
	out := flag.String("out", "bench/out/lines.txt", "output file")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()

	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(*seed, *seed)) //nolint:gosec // G404: a seeded generator, so that a run can be repeated
	start := time.Date(2026, time.November, 22, 4, 0, 0, 0, time.UTC)
	var total int64
	for i := 0; i < *n; i++ {
		svc := r.IntN(*services)
		sev := 6
		if r.IntN(20) == 0 {
			sev = 3
		}
		ts := start.Add(time.Duration(i) * time.Millisecond).Format(time.Stamp)
		line := fmt.Sprintf("<%d>%s svc%02d[%d]: req=%016x %s %s status=%d dur_ms=%d bytes=%d outcome=%q user=u%06d span=%016x client=10.%d.%d.%d\n",
			3*8+sev, ts, svc, 1000+svc, r.Uint64(), verbs[r.IntN(len(verbs))], paths[r.IntN(len(paths))],
			200+100*r.IntN(4), r.IntN(2000), r.IntN(1<<20), outcomes[r.IntN(len(outcomes))], r.IntN(1_000_000),
			r.Uint64(), r.IntN(256), r.IntN(256), r.IntN(256))
		total += int64(len(line))
		if _, err := w.WriteString(line); err != nil {
			fmt.Fprintln(os.Stderr, "benchgen:", err)
			os.Exit(1)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
	fmt.Printf("benchgen: %d lines, %.1f bytes/line average, %d services -> %s\n", *n, float64(total)/float64(*n), *services, *out)
}
