package main

import (
	"math"
	"sync/atomic"
)

// latencies is a histogram of end-to-end latencies with buckets 1% wide
// (bucket i holds latencies around e^(i/100) µs), so that percentiles cost
// a scan of ~1,700 counters rather than a sort, and recording is one
// atomic add from any connection.
type latencies struct {
	buckets [1800]atomic.Int64
	n, max  atomic.Int64 // max in ns
}

func (l *latencies) record(ns int64) {
	// A line not stamped by benchfeed -stamp (an ordinary request id) reads
	// as a time far from now: not a latency.
	if ns < 0 || ns > int64(3600e9) {
		return
	}
	i := int(math.Log1p(float64(ns)/1e3) * 100)
	i = min(i, len(l.buckets)-1)
	l.buckets[i].Add(1)
	l.n.Add(1)
	for {
		m := l.max.Load()
		if ns <= m || l.max.CompareAndSwap(m, ns) {
			break
		}
	}
}

// summary: lines measured, p50, p99 and max in ms (a percentile is its
// bucket's upper bound, within 1%).
func (l *latencies) summary() (n int64, p50, p99, maxMS float64) {
	n = l.n.Load()
	if n == 0 {
		return 0, 0, 0, 0
	}
	at := func(q float64) float64 {
		want := int64(math.Ceil(q * float64(n)))
		var seen int64
		for i := range l.buckets {
			seen += l.buckets[i].Load()
			if seen >= want {
				return math.Expm1(float64(i+1)/100) / 1e3
			}
		}
		return float64(l.max.Load()) / 1e6
	}
	return n, at(0.50), at(0.99), float64(l.max.Load()) / 1e6
}
