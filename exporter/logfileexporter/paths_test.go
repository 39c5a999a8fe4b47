package logfileexporter

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// oneRecordEach makes one record for each of the services svc-<from> to
// svc-<from+n-1>, its body naming it.
func oneRecordEach(from, n int) plog.Logs {
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := from; i < from+n; i++ {
		r := recs.AppendEmpty()
		r.SetTimestamp(pcommon.NewTimestampFromTime(testStart))
		svc := fmt.Sprintf("svc-%05d", i)
		r.Body().SetStr("from " + svc)
		r.Attributes().PutStr(logattr.Service, svc)
	}
	return ld
}

// TestManyDistinctPathsStayBounded feeds 20,000 services into a
// per-service path template. Half fit under max_paths and get their own
// file; the rest go to the overflow file, counted. What a new path costs
// must not grow with the number of files already in the directory (it
// did: every new path read the whole directory, under the lock), so the
// last 1,000 new paths, with ~9,500 files present, may not cost much more
// than the first 1,000.
func TestManyDistinctPathsStayBounded(t *testing.T) {
	const services, maxPaths, block, batch = 20000, 10000, 1000, 100
	env := newTestEnv(t, func(c *Config) {
		c.Path = "{logx.service}.log"
		c.MaxPaths = maxPaths
		c.DiskGuard.MinFreeBytes = 0 // independent of this machine's disk
	})
	start := time.Now()
	var took []time.Duration // per block of 1,000 services
	for b := 0; b < services/block; b++ {
		t0 := time.Now()
		for i := b * block; i < (b+1)*block; i += batch {
			env.push(oneRecordEach(i, batch))
		}
		took = append(took, time.Since(t0))
		// Fail in bounded time where the cost per path grows.
		require.Less(t, time.Since(start), 2*time.Minute, "after %d services; per block: %v", (b+1)*block, took)
	}
	t.Logf("per 1,000 services: %v", took)
	// Creating files costs the kernel more or less as other processes
	// load the disk: the reference is the slower of the first two blocks,
	// the bound generous. A cost growing with the files present (two
	// directory reads per new path) made the old writer pass the two
	// minutes above before 5,000 services.
	first, lastNew, lastOverflow := max(took[0], took[1]), took[maxPaths/block-1], took[len(took)-1]
	bound := 4*first + time.Second
	assert.Less(t, lastNew, bound, "new paths 9,000-9,999 (directory holding ~9,500 files) vs the first 1,000: %v", took)
	assert.Less(t, lastOverflow, bound, "overflowed services vs the first 1,000: %v", took)

	// Bounded files: one per known path, and the overflow file.
	entries, err := os.ReadDir(env.dir)
	require.NoError(t, err)
	assert.Len(t, entries, maxPaths+1)
	env.e.mu.Lock()
	assert.Equal(t, maxPaths, env.e.knownPaths())
	env.e.mu.Unlock()

	// Nothing lost: fed = written + dropped; the overflow is counted.
	written := env.counter("otelcol_logx_logfile_records_written", "")
	dropped := env.counter("otelcol_logx_logfile_records_dropped", "")
	assert.Equal(t, int64(services), written+dropped)
	assert.Zero(t, dropped)
	assert.Equal(t, int64(services-maxPaths), env.counter("otelcol_logx_logfile_records_overflowed", metadata.ReasonMaxPaths))
	assert.Equal(t, "from svc-00042\n", readFile(t, filepath.Join(env.dir, "svc-00042.log")))
	overflow := readFile(t, filepath.Join(env.dir, "overflow.log"))
	assert.Equal(t, services-maxPaths, strings.Count(overflow, "\n"))
	assert.True(t, strings.HasPrefix(overflow, "from svc-10000\nfrom svc-10001\n"), overflow[:40])
	assert.NoFileExists(t, filepath.Join(env.dir, "svc-10000.log"))
}

// TestOverflowPathOption: overflow_path puts the overflow file where the
// operator says, and the fixed part of the template decides the default.
func TestOverflowPathOption(t *testing.T) {
	other := filepath.Join(t.TempDir(), "spill", "rest.log")
	env := newTestEnv(t, func(c *Config) {
		c.Path = "svc/{logx.service}/app.log"
		c.MaxPaths = 1
		c.OverflowPath = other
	})
	env.push(lines("a", "kept"))
	env.push(lines("b", "spilled"))
	assert.Equal(t, "kept\n", readFile(t, filepath.Join(env.dir, "svc", "a", "app.log")))
	assert.Equal(t, "spilled\n", readFile(t, other))

	c := &Config{Path: "/var/log/logx/{logx.service}/{{x}}-{cfjs1.format}.log"}
	assert.Equal(t, "/var/log/logx/overflow.log", c.overflowPath())
	c.Path = "/var/log/logx/svc-{logx.service}.log"
	assert.Equal(t, "/var/log/logx/overflow.log", c.overflowPath())
	c.Path = "/var/log/{{literal}}/{logx.service}.log"
	assert.Equal(t, "/var/log/{literal}/overflow.log", c.overflowPath())
}

// TestForgottenPathsFreeTheirSlot: a path with nothing of it left on disk
// (its file moved away by logrotate, or removed, and no rotated files) is
// forgotten, so that a new service gets a file of its own again instead
// of the overflow file, for as long as the process runs.
func TestForgottenPathsFreeTheirSlot(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "{logx.service}.log"
		c.MaxPaths = 2
	})
	env.push(lines("a", "a1"))
	env.push(lines("b", "b1"))
	env.push(lines("c", "c1"))
	assert.Equal(t, "c1\n", readFile(t, filepath.Join(env.dir, "overflow.log")))

	// logrotate moves a.log away: a is closed and forgotten.
	require.NoError(t, os.Rename(filepath.Join(env.dir, "a.log"), filepath.Join(env.dir, "a.log.1")))
	env.e.maintain(env.clock.Advance(2 * time.Second))
	env.push(lines("c", "c2"))
	assert.Equal(t, "c2\n", readFile(t, filepath.Join(env.dir, "c.log")))

	// b is closed (max_open_files pressure), and an operator removes its
	// file: the minute sweep notices and forgets it.
	env.e.mu.Lock()
	require.NoError(t, env.e.closeFile(env.e.files[filepath.Join(env.dir, "b.log")], env.clock.Now()))
	env.e.mu.Unlock()
	require.NoError(t, os.Remove(filepath.Join(env.dir, "b.log")))
	env.e.maintain(env.clock.Advance(retentionSweepEvery))
	env.push(lines("d", "d1"))
	assert.Equal(t, "d1\n", readFile(t, filepath.Join(env.dir, "d.log")))

	env.push(lines("e", "e1"))
	assert.Equal(t, "c1\ne1\n", readFile(t, filepath.Join(env.dir, "overflow.log")))
	assert.Equal(t, int64(2), env.counter("otelcol_logx_logfile_records_overflowed", metadata.ReasonMaxPaths))
	env.e.mu.Lock()
	defer env.e.mu.Unlock()
	assert.ElementsMatch(t, []string{"c.log", "d.log", "overflow.log"}, baseNames(env.e.accts))
}

// TestRotatedAwayPathIsForgotten: with time rotation and max_age, an idle
// path is rotated, closed after an empty interval, its rotated files age
// out, and it frees its slot.
func TestRotatedAwayPathIsForgotten(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "{logx.service}.log"
		c.MaxPaths = 1
		c.Rotation.Interval = time.Hour
		c.Rotation.MaxAge = 2 * time.Hour
		c.Rotation.Compression = compressionNone
	})
	// File times are real: run this test's clock from the real now.
	env.clock.mu.Lock()
	env.clock.t = time.Now()
	env.clock.mu.Unlock()
	env.push(lines("a", "a1"))
	env.e.maintain(env.clock.Advance(time.Hour)) // rotated at the boundary
	env.e.maintain(env.clock.Advance(time.Hour)) // empty for an interval: closed
	env.e.mu.Lock()
	assert.Empty(t, env.e.files)
	env.e.mu.Unlock()
	env.push(lines("b", "b1"))
	assert.Equal(t, "b1\n", readFile(t, filepath.Join(env.dir, "overflow.log")), "a still holds the only slot")

	// Three hours on, the rotated file is past max_age: removed, a
	// forgotten, and b gets its own file.
	rot := rotatedOf(t, filepath.Join(env.dir, "a.log"))
	require.Len(t, rot, 1)
	past := time.Now().Add(-3 * time.Hour)
	require.NoError(t, os.Chtimes(rot[0], past, past))
	env.e.maintain(env.clock.Advance(3 * time.Hour))
	assert.NoFileExists(t, rot[0])
	env.push(lines("b", "b2"))
	assert.Equal(t, "b2\n", readFile(t, filepath.Join(env.dir, "b.log")))
}

func baseNames(accts map[string]*pathAcct) []string {
	var out []string
	for p := range accts {
		out = append(out, filepath.Base(p))
	}
	return out
}

// TestWritesDoNotWaitForDirectoryReads: while a directory is being read
// (held here as a slow read would hold it), new paths open, files rotate
// and retention runs: none of them reads a directory.
func TestWritesDoNotWaitForDirectoryReads(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "{logx.service}.log"
		c.Rotation.MaxBytes = 100
		c.Rotation.MaxBackups = 2
		c.Rotation.Compression = compressionNone
	})
	env.e.scanMu.Lock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			env.push(oneRecordEach(i*10, 10))
			env.push(lines("busy", numbered("r", 5)...)) // 245 bytes: rotates
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("writes waited for a directory read")
	}
	env.e.scanMu.Unlock()
	assert.Len(t, rotatedOf(t, filepath.Join(env.dir, "busy.log")), 2, "retention applied from memory")
	assert.Equal(t, int64(20*15), env.counter("otelcol_logx_logfile_records_written", ""))
}
