package main

import (
	"math"
	"testing"
)

func TestLatencyPercentiles(t *testing.T) {
	var l latencies
	// 1..1000 ms, one each: p50 ≈ 500 ms, p99 ≈ 990 ms, max 1000 ms.
	for ms := 1; ms <= 1000; ms++ {
		l.record(int64(ms) * 1e6)
	}
	l.record(-5)      // a clock step: not a latency
	l.record(1 << 62) // an ordinary request id: not a latency
	n, p50, p99, maxMS := l.summary()
	if n != 1000 {
		t.Fatalf("n = %d, want 1000", n)
	}
	within := func(got, want float64) bool { return math.Abs(got-want) <= want*0.02 }
	if !within(p50, 500) || !within(p99, 990) || maxMS != 1000 {
		t.Fatalf("p50 %.1f p99 %.1f max %.1f, want ~500, ~990, 1000", p50, p99, maxMS)
	}
}
