package testutil

import (
	"fmt"
	"runtime"
	"time"
)

// RateResult is what WriteAtRate measured.
type RateResult struct {
	// Lines is how many lines were written, one per write.
	Lines int
	// WriterCPU is the CPU time the writing thread spent, for a caller
	// that measures the process's CPU (ProcessCPU) to take out.
	WriterCPU time.Duration
	// MaxBlock is the longest a single write took.
	MaxBlock time.Duration
}

// WriteAtRate writes one syslog line per call of write, rate lines a
// second for d, as a busy service does (syslog(3), logger, nginx: one
// line per write(2) or datagram). The lines go out in ticks of a
// millisecond (rate/1000 writes each, at least one), so that the pace
// holds without a busy wait; the loop ends after d whatever happens, and
// on the first error, which it returns.
func WriteAtRate(rate int, d time.Duration, write func(line []byte) error) (RateResult, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	from := ThreadCPU()
	var res RateResult
	line := make([]byte, 0, 256)
	start := time.Now()
	const tick = time.Millisecond
	var err error
	for err == nil {
		elapsed := time.Since(start)
		if elapsed >= d {
			break
		}
		// Lines due by now: catching up after a late tick keeps the rate.
		due := int(int64(rate) * int64(elapsed+tick) / int64(time.Second))
		for res.Lines < due && err == nil {
			line = fmt.Appendf(line[:0], "<30>Nov 22 04:00:00 nginx[4242]: 10.0.0.1 - - \"GET /api/v1/items?id=%07d HTTP/1.1\" 200 1532 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.012\n", res.Lines)
			t0 := time.Now()
			err = write(line)
			res.MaxBlock = max(res.MaxBlock, time.Since(t0))
			if err == nil {
				res.Lines++
			}
		}
		time.Sleep(tick - time.Since(start)%tick)
	}
	res.WriterCPU = ThreadCPU() - from
	return res, err
}
