package ingest

import (
	"bytes"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/lagsignal"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestPacerPauseFollowsRate: the pause is what the rate seen needs to
// gather DefaultPace's writes or bytes, within MaxPause; none for a quiet
// source or one so fast that reads are large without waiting.
func TestPacerPauseFollowsRate(t *testing.T) {
	p := NewPacer(DefaultPace, nil)
	for _, tc := range []struct {
		name          string
		elapsed       time.Duration
		writes, bytes int
		want          time.Duration
	}{
		{"1k lines/s: MaxPause", time.Millisecond, 1, 150, 5 * time.Millisecond},
		{"10k lines/s: MaxPause", time.Millisecond, 10, 1500, 5 * time.Millisecond},
		{"50k lines/s: 64 writes' time", time.Millisecond, 50, 7500, 1280 * time.Microsecond},
		{"long lines: 16 KiB's time", 3 * time.Millisecond, 10, 40_960, 1200 * time.Microsecond},
		{"100k lines/s: shorter than a millisecond, no pause", time.Millisecond, 100, 15_000, 0},
		{"1M lines/s: too short to wait", time.Millisecond, 1000, 150_000, 0},
		{"one line in 50 ms: quiet", 50 * time.Millisecond, 1, 150, 0},
		{"nothing read", time.Millisecond, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, p.pauseFor(tc.elapsed, tc.writes, tc.bytes))
		})
	}
}

// TestPacerBusyReaderNeverPauses: reads that fill their buffer mean more
// is waiting; the next read comes at once, however few writes they held.
func TestPacerBusyReaderNeverPauses(t *testing.T) {
	p := NewPacer(DefaultPace, nil)
	for range 100 {
		p.Read(1, 64<<10, true)
		require.Zero(t, p.Pause())
		start := time.Now()
		p.Wait()
		require.Less(t, time.Since(start), DefaultPace.MaxPause)
	}
}

// TestPacerQuietSourceDoesNotPause: a line now and then is read as it
// comes; a pause after it would only make the reader wake twice.
func TestPacerQuietSourceDoesNotPause(t *testing.T) {
	p := NewPacer(DefaultPace, nil)
	p.Read(1, 100, false)
	for range 3 {
		time.Sleep(20 * time.Millisecond) // the source's quiet spell, not a synchronisation
		p.Read(1, 100, false)
		assert.Zero(t, p.Pause())
	}
}

// TestPacerPauseEndsAtShutdown: closing done ends a pause at once, and
// no read waits after it (the receiver drains what is queued).
func TestPacerPauseEndsAtShutdown(t *testing.T) {
	done := make(chan struct{})
	p := NewPacer(PaceSettings{MaxPause: time.Hour, Writes: 1 << 30, Bytes: 1 << 30}, done)
	for range 3 {
		readAfter(p, time.Millisecond, 1, 100) // a write a millisecond: a steady source
	}
	require.Greater(t, p.Pause(), time.Minute)
	waited := make(chan struct{})
	go func() {
		p.Wait()
		close(waited)
	}()
	close(done)
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("the pause did not end at shutdown")
	}
	p.Read(1, 100, false)
	assert.Zero(t, p.Pause())
}

// readAfter tells p of a read that found the source empty, elapsed after
// the last one that did.
func readAfter(p *Pacer, elapsed time.Duration, writes, bytes int) {
	p.since = time.Now().Add(-elapsed)
	p.Read(writes, bytes, false)
}

// TestPacerPausesWhenTwoIntervalsAgree: a reader woken by the first
// write of a burst sees a slow rate for one interval; the pause follows
// the faster of the last two, so that a writer at 50k lines/s is not
// left for the 5 ms a slow one would be.
func TestPacerPausesWhenTwoIntervalsAgree(t *testing.T) {
	p := NewPacer(DefaultPace, nil)
	readAfter(p, time.Millisecond, 10, 1500) // 10k lines/s
	assert.Zero(t, p.Pause(), "one interval is not enough to pause")
	readAfter(p, time.Millisecond, 10, 1500)
	assert.Equal(t, 5*time.Millisecond, p.Pause())
	readAfter(p, time.Millisecond, 50, 7500) // 50k lines/s
	assert.InDelta(t, 1280*time.Microsecond, p.Pause(), float64(50*time.Microsecond))
	readAfter(p, time.Millisecond, 2, 300) // woke at a burst's first writes
	assert.InDelta(t, 1280*time.Microsecond, p.Pause(), float64(50*time.Microsecond), "the faster interval bounds the pause")
	readAfter(p, 50*time.Millisecond, 1, 150) // quiet
	assert.Zero(t, p.Pause())
}

// countingReader counts the reads of the reader beneath the pacer.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(b []byte) (int, error) {
	c.reads++
	return c.r.Read(b)
}

// TestPacedReaderFewerReadsAtSteadyRate: a writer writing one line per
// write(2) at 10k lines/s into a pipe; read unpaced, each tick's few
// lines would be a read of their own (the writer writes every
// millisecond). Paced, a read takes about MaxPause's worth, and the
// writer never waits on the reader.
func TestPacedReaderFewerReadsAtSteadyRate(t *testing.T) {
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	src := &countingReader{r: pr}
	rd := NewPacedReader(src, NewPacer(DefaultPace, nil))
	var got int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := rd.Read(buf)
			got += bytes.Count(buf[:n], newline)
			if err != nil {
				return
			}
		}
	}()
	res, err := testutil.WriteAtRate(10_000, 500*time.Millisecond, func(line []byte) error {
		_, err := pw.Write(line)
		return err
	})
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	wg.Wait()
	require.Equal(t, res.Lines, got)
	t.Logf("%d lines in %d reads, longest write %s", got, src.reads, res.MaxBlock)
	// Unpaced, at least one read per millisecond tick: lines/10.
	assert.Less(t, src.reads*20, got, "reads per line")
}

// TestPacerSaysWhenItLags: a reader whose reads keep filling their buffer
// says so (lagsignal), so that the process gets threads at once.
func TestPacerSaysWhenItLags(t *testing.T) {
	signals, stop := lagsignal.Listen()
	defer stop()
	p := NewPacer(DefaultPace, nil)
	for range lagsignal.Reads {
		p.Read(64, 64<<10, true)
	}
	assert.Len(t, signals, 1)
}
