package ratelimitprocessor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
)

// Many goroutines limit the same keys while the background jobs run. With
// the clock standing still the result is exact whatever the interleaving:
// each key passes its burst, no more, no less, and every other record is
// counted as dropped.
func TestConcurrentBatchesAreExact(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 10, 7
	cfg.MaxKeys = 15 // 20 keys: 5 of them share the overflow bucket
	cfg.Overflow = LimitConfig{Rate: 10, Burst: 9}
	cfg.Metrics.TopKeys = 100
	tt := componenttest.NewTelemetry()
	p, sink := newTestLimiter(t, cfg, clk, tt.NewTelemetrySettings())

	const workers, batches, keys, perKey = 8, 40, 20, 5
	var passedTotal atomic.Int64
	perKeyPassed := make([]atomic.Int64, keys)
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(1)
	go func() { // the background jobs, as fast as they can go
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			p.sweep(context.Background())
			p.report.flushMetrics(context.Background())
			p.report.emitSummaries(context.Background())
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var recs []rec
				for k := range keys {
					recs = append(recs, svc(fmt.Sprintf("k%02d", (k+w+b)%keys), perKey)...)
				}
				for name, n := range passed(t, p, recs) {
					var i int
					_, _ = fmt.Sscanf(name, "k%02d", &i)
					perKeyPassed[i].Add(int64(n))
					passedTotal.Add(int64(n))
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	bg.Wait()

	assert.EqualValues(t, 15*7+9, passedTotal.Load(), "15 keys × burst 7 + the overflow burst 9")
	var overflowPassed int64
	for i := range perKeyPassed {
		key := fmt.Sprintf("k%02d", i)
		if p.table.has(key) {
			assert.EqualValues(t, 7, perKeyPassed[i].Load(), "%s is in the table: exactly its burst", key)
		} else {
			overflowPassed += perKeyPassed[i].Load()
		}
	}
	assert.EqualValues(t, 9, overflowPassed, "the keys outside the table share the overflow burst")
	assert.EqualValues(t, 15, p.table.len())

	p.report.flushMetrics(context.Background())
	var dropped int64
	for _, reasons := range droppedByKey(t, tt) {
		dropped += reasons["rate"]
	}
	assert.Equal(t, workers*batches*keys*perKey-passedTotal.Load(), dropped, "every record not passed is counted once")

	// Summaries say the same: their dropped attributes add up.
	p.report.emitSummaries(context.Background())
	var summarised int64
	for _, ld := range sink.AllLogs() {
		rls := ld.ResourceLogs()
		for i := 0; i < rls.Len(); i++ {
			v, _ := rls.At(i).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get(attrSummaryDropped)
			summarised += v.Int()
		}
	}
	assert.Equal(t, dropped, summarised)
}

// With the clock moving while workers run, no key passes more than
// burst + rate × elapsed.
func TestConcurrentWithMovingClockStaysWithinBound(t *testing.T) {
	clk := newFakeClock()
	cfg := defaultConfig()
	cfg.Rate, cfg.Burst = 100, 10
	p, _ := newTestLimiter(t, cfg, clk, nopTelemetry())

	var total atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				clk.Advance(time.Millisecond)
				total.Add(int64(passed(t, p, svc("shared", 10))["shared"]))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Duration(clk.ns.Load())
	require.Equal(t, 800*time.Millisecond, elapsed)
	assert.LessOrEqual(t, total.Load(), int64(10+100*elapsed.Seconds()))
	assert.GreaterOrEqual(t, total.Load(), int64(100*elapsed.Seconds())-10, "every millisecond earned 0.1 record and records were always waiting")
}

func TestShutdownWithoutStartReturns(t *testing.T) {
	p, err := newRateLimiter(defaultConfig(), nopTelemetry(), nil, newFakeClock())
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- p.shutdown(context.Background()) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown without start hangs")
	}
}
