package logfileexporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"

	"github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d %s", prefix, i, strings.Repeat("x", 40))
	}
	return out
}

// rotatedOf lists path's rotated siblings, oldest first.
func rotatedOf(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	for _, r := range listRotated(path) {
		names = append(names, r.name)
	}
	return names
}

func TestPathTemplateAndOpenFileBound(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "svc/{logx.service}.log"
		c.MaxOpenFiles = 2
	})
	for round := range 3 {
		for _, svc := range []string{"a", "b", "c", "d"} {
			env.push(lines(svc, fmt.Sprintf("%s-%d", svc, round)))
			assert.LessOrEqual(t, len(env.e.files), 2, "max_open_files")
		}
	}
	// A value that tries to leave the directory stays inside it.
	env.push(lines("../../escape", "evil"))
	env.push(lines("", "no service"))
	for _, svc := range []string{"a", "b", "c", "d"} {
		assert.Equal(t, fmt.Sprintf("%s-0\n%s-1\n%s-2\n", svc, svc, svc),
			readFile(t, filepath.Join(env.dir, "svc", svc+".log")))
	}
	assert.Equal(t, "evil\n", readFile(t, filepath.Join(env.dir, "svc", ".._.._escape.log")))
	assert.Equal(t, "no service\n", readFile(t, filepath.Join(env.dir, "svc", "unknown.log")))
	assert.Equal(t, int64(14), env.counter("otelcol_logx_logfile_records_written", ""))
}

func TestRotateBySize(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "app.log"
		c.Rotation.MaxBytes = 500
		c.Rotation.MaxBackups = 100
		c.Rotation.Compression = compressionNone
	})
	want := numbered("line", 40) // 49 bytes each with '\n': 10 per file
	for i, l := range want {
		env.push(lines("s", l))
		env.clock.Advance(time.Second * time.Duration(i%2)) // some share a stamp
	}
	path := filepath.Join(env.dir, "app.log")
	rotated := rotatedOf(t, path)
	require.Len(t, rotated, 3)
	var all strings.Builder
	for _, r := range append(rotated, path) {
		content := readFile(t, r)
		assert.LessOrEqual(t, len(content), 500, r)
		all.WriteString(content)
	}
	assert.Equal(t, strings.Join(want, "\n")+"\n", all.String(), "nothing lost or reordered across rotations")
	assert.Equal(t, int64(3), env.counter("otelcol_logx_logfile_rotations", ""))
}

func TestRotateByTime(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "app.log"
		c.Rotation.MaxBytes = 0
		c.Rotation.Interval = time.Hour
		c.Rotation.Compression = compressionNone
	})
	path := filepath.Join(env.dir, "app.log")
	env.clock.Advance(30 * time.Minute) // 10:30
	env.push(lines("s", "first hour"))
	env.e.maintain(env.clock.Advance(29 * time.Minute)) // 10:59: not yet
	assert.Empty(t, rotatedOf(t, path))

	// At 11:00 the maintenance rotates even without a new record.
	env.e.maintain(env.clock.Advance(time.Minute))
	require.Equal(t, []string{path + ".20261122T110000"}, rotatedOf(t, path))
	assert.Equal(t, "first hour\n", readFile(t, path+".20261122T110000"))

	env.push(lines("s", "second hour"))
	// A record written after the boundary, before maintenance ran,
	// rotates on the write path.
	env.clock.Advance(time.Hour + time.Second) // 12:00:01
	env.push(lines("s", "third hour"))
	rot := rotatedOf(t, path)
	require.Len(t, rot, 2)
	assert.Equal(t, "second hour\n", readFile(t, rot[1]))
	assert.Equal(t, "third hour\n", readFile(t, path))

	// An empty file is not rotated at a boundary.
	env.e.maintain(env.clock.Advance(time.Hour))
	env.push(lines("s", "x"))
	env.e.maintain(env.clock.Advance(time.Hour))
	env.e.maintain(env.clock.Advance(time.Hour))
	assert.Len(t, rotatedOf(t, path), 4)
}

// TestCompressedRotationsDecompress: rotated files decompress to what
// was written (read with zcat and zstdcat under -tags interop, else with Go
// decoders: see decompressed).
func TestCompressedRotationsDecompress(t *testing.T) {
	for _, tc := range []struct{ compression, ext string }{
		{compressionGzip, ".gz"},
		{compressionZstd, ".zst"},
	} {
		t.Run(tc.compression, func(t *testing.T) {
			old := syscall.Umask(0o077)
			defer syscall.Umask(old)
			env := newTestEnv(t, func(c *Config) {
				c.Path = "app.log"
				c.Rotation.MaxBytes = 2000
				c.Rotation.Compression = tc.compression
				c.Permissions.FileMode = "0644"
			})
			want := numbered(tc.compression, 100)
			for _, l := range want {
				env.push(lines("s", l))
				env.clock.Advance(time.Second)
			}
			path := filepath.Join(env.dir, "app.log")
			testutil.WaitFor(t, 20*time.Second, "every rotated file compressed", func() bool {
				env.e.mu.Lock()
				defer env.e.mu.Unlock()
				for _, r := range listRotated(path) {
					if r.ext != tc.ext || r.tmp {
						return false
					}
				}
				return len(listRotated(path)) > 0
			})

			var all strings.Builder
			rotated := rotatedOf(t, path)
			require.NotEmpty(t, rotated)
			for _, r := range rotated {
				require.True(t, strings.HasSuffix(r, tc.ext), r)
				all.Write(decompressed(t, r))
				st, err := os.Stat(r)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "compressed file mode despite umask 077")
			}
			all.WriteString(readFile(t, path))
			// Retention (max_backups 10) may have removed the oldest.
			got := strings.Split(strings.TrimSuffix(all.String(), "\n"), "\n")
			require.NotEmpty(t, got)
			assert.Equal(t, want[len(want)-len(got):], got)
			assert.LessOrEqual(t, len(rotated), 10)
		})
	}
}

func TestRetentionMaxBackupsAndMaxAge(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "app.log"
		c.Rotation.MaxBytes = 100
		c.Rotation.MaxBackups = 2
		c.Rotation.MaxAge = 2 * time.Hour
		c.Rotation.Compression = compressionNone
	})
	// File times are real: run this test's clock from the real now.
	start := time.Now()
	env.clock.mu.Lock()
	env.clock.t = start
	env.clock.mu.Unlock()
	path := filepath.Join(env.dir, "app.log")
	for _, l := range numbered("r", 10) {
		env.push(lines("s", l))
		env.clock.Advance(time.Second)
	}
	rot := rotatedOf(t, path)
	require.Len(t, rot, 2, "max_backups")
	assert.Contains(t, readFile(t, rot[1]), "r-007")
	assert.Equal(t, int64(2), env.counter("otelcol_logx_logfile_removed_files", "max_backups"))

	// Age one rotated file past max_age; the periodic sweep removes it.
	past := start.Add(-3 * time.Hour)
	require.NoError(t, os.Chtimes(rot[0], past, past))
	env.e.maintain(env.clock.Advance(retentionSweepEvery))
	assert.Equal(t, rot[1:], rotatedOf(t, path))
	assert.Equal(t, int64(1), env.counter("otelcol_logx_logfile_removed_files", "max_age"))
}

func TestPermissionsRegardlessOfUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	// As root the test gives files away; otherwise it names its own ids,
	// which still exercises the explicit chown.
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		uid, gid = 4242, 4343
	}
	env := newTestEnv(t, func(c *Config) {
		c.Path = "a/b/{logx.service}.log"
		c.Permissions = PermissionsConfig{FileMode: "0664", DirMode: "0775",
			Owner: fmt.Sprint(uid), Group: fmt.Sprint(gid)}
	})
	env.push(lines("svc", "hello"))
	check := func(p string, mode os.FileMode) {
		t.Helper()
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, mode, st.Mode().Perm(), p)
		sys := st.Sys().(*syscall.Stat_t)
		assert.Equal(t, uint32(uid), sys.Uid, p)
		assert.Equal(t, uint32(gid), sys.Gid, p)
	}
	check(filepath.Join(env.dir, "a"), 0o775)
	check(filepath.Join(env.dir, "a", "b"), 0o775)
	check(filepath.Join(env.dir, "a", "b", "svc.log"), 0o664)

	// An existing file with other permissions is corrected on open.
	p := filepath.Join(env.dir, "a", "b", "pre.log")
	require.NoError(t, os.WriteFile(p, []byte("old\n"), 0o600))
	env.push(lines("pre", "new"))
	check(p, 0o664)
	assert.Equal(t, "old\nnew\n", readFile(t, p))
}

func TestReopenAfterExternalRename(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.Path = "app.log" })
	path := filepath.Join(env.dir, "app.log")
	env.push(lines("s", "before"))
	require.NoError(t, os.Rename(path, path+".1")) // what logrotate does

	// Until the check runs, records follow the moved file (as with any
	// daemon before its HUP); the check reopens the path.
	env.e.maintain(env.clock.Advance(2 * time.Second))
	env.push(lines("s", "after"))
	assert.Equal(t, "before\n", readFile(t, path+".1"))
	assert.Equal(t, "after\n", readFile(t, path))
	assert.Equal(t, int64(1), env.counter("otelcol_logx_logfile_reopens", "moved"))

	// Removed outright: recreated.
	require.NoError(t, os.Remove(path))
	env.e.maintain(env.clock.Advance(2 * time.Second))
	env.push(lines("s", "recreated"))
	assert.Equal(t, "recreated\n", readFile(t, path))
}

func TestReopenOnSIGHUP(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "app.log"
		c.Reopen.CheckInterval = 0 // only the signal reopens
	})
	path := filepath.Join(env.dir, "app.log")
	env.push(lines("s", "before"))
	require.NoError(t, os.Rename(path, path+".1"))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	testutil.WaitFor(t, 20*time.Second, "SIGHUP handled", func() bool { return env.counter("otelcol_logx_logfile_reopens", "sighup") == 1 })
	env.push(lines("s", "after"))
	assert.Equal(t, "after\n", readFile(t, path))
	assert.Equal(t, "before\n", readFile(t, path+".1"))
}

func TestDiskGuardMaxTotal(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "{logx.service}.log"
		c.DiskGuard.MaxTotalBytes = 1000
		c.DiskGuard.MinFreeBytes = 0
		c.Rotation.MaxBytes = 300
		c.Rotation.Compression = compressionNone
	})
	// 50-byte lines over two files: the total counts both files and
	// their rotated siblings.
	body := strings.Repeat("y", 49)
	for range 15 {
		env.push(lines("a", body))
		env.push(lines("b", body))
	}
	var total int64
	entries, err := os.ReadDir(env.dir)
	require.NoError(t, err)
	for _, ent := range entries {
		info, err := ent.Info()
		require.NoError(t, err)
		total += info.Size()
	}
	assert.Equal(t, int64(1000), total, "exactly the budget is on disk")
	assert.Equal(t, int64(20), env.counter("otelcol_logx_logfile_records_written", ""))
	assert.Equal(t, int64(10), env.counter("otelcol_logx_logfile_records_dropped", metadata.ReasonDiskMaxTotal))
}

func TestDiskGuardMinFree(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "app.log"
		c.DiskGuard.MinFreeBytes = 1 << 20
		c.DiskGuard.CheckInterval = time.Minute
	})
	free := int64(1<<20 + 250)
	statfsCalls := 0
	env.e.mu.Lock()
	env.e.statfs = func(string) (int64, error) { statfsCalls++; return free, nil }
	env.e.mu.Unlock()
	for range 5 {
		env.push(lines("s", strings.Repeat("z", 99))) // 100 bytes
	}
	// The estimate falls as we write: two fit above the floor.
	assert.Equal(t, int64(2), env.counter("otelcol_logx_logfile_records_written", ""))
	assert.Equal(t, int64(3), env.counter("otelcol_logx_logfile_records_dropped", metadata.ReasonDiskMinFree))
	assert.Equal(t, 1, statfsCalls, "statfs is cached for check_interval")

	// Space is freed; after check_interval writing resumes.
	free = 10 << 20
	env.clock.Advance(time.Minute)
	env.push(lines("s", "again"))
	assert.Equal(t, int64(3), env.counter("otelcol_logx_logfile_records_written", ""))

	// The real statfs works on this machine.
	n, err := statfsFree(env.dir)
	require.NoError(t, err)
	assert.Positive(t, n)
}

func TestDiskGuardRetryReturnsRemainder(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "app.log"
		c.DiskGuard.MaxTotalBytes = 100
		c.DiskGuard.OnFull = onFullRetry
	})
	err := env.e.pushLogs(context.Background(), lines("s", numbered("q", 5)...)) // 47 bytes each
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	var le consumererror.Logs
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 3, le.Data().LogRecordCount(), "only the records not written are retried")
	assert.Equal(t, "q-002 "+strings.Repeat("x", 40), le.Data().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str())
	assert.Equal(t, int64(0), env.counter("otelcol_logx_logfile_records_dropped", ""))
}

func TestOpenErrorAndTooLongAreCounted(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "{logx.service}/x.log"
		c.MaxRecordBytes = 10
	})
	// A regular file where a directory should be.
	require.NoError(t, os.WriteFile(filepath.Join(env.dir, "blocked"), nil, 0o644))
	env.push(lines("blocked", "short"))
	env.push(lines("ok", "this one is far too long"))
	env.push(lines("ok", "fits"))
	assert.Equal(t, int64(1), env.counter("otelcol_logx_logfile_records_dropped", metadata.ReasonOpen))
	assert.Equal(t, int64(1), env.counter("otelcol_logx_logfile_records_dropped", metadata.ReasonTooLong))
	assert.Equal(t, "fits\n", readFile(t, filepath.Join(env.dir, "ok", "x.log")))
}

func TestFlushIntervalAndSync(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "app.log"
		c.Flush.Interval = time.Second
		c.Flush.SyncInterval = 5 * time.Second
	})
	path := filepath.Join(env.dir, "app.log")
	env.push(lines("s", "buffered"))
	assert.Empty(t, readFile(t, path), "held in the buffer until the flush interval")
	env.e.maintain(env.clock.Advance(time.Second))
	assert.Equal(t, "buffered\n", readFile(t, path))
	env.e.mu.Lock()
	unsynced := env.e.files[path].unsynced
	env.e.mu.Unlock()
	assert.Equal(t, int64(9), unsynced)
	env.e.maintain(env.clock.Advance(5 * time.Second))
	env.e.mu.Lock()
	unsynced = env.e.files[path].unsynced
	env.e.mu.Unlock()
	assert.Zero(t, unsynced, "fsynced at sync_interval")
}

func TestRestartAdoptsRotatedFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	// Left by an earlier run: an uncompressed rotation and a broken
	// compression.
	require.NoError(t, os.WriteFile(path+".20261121T000000", []byte("old\n"), 0o640))
	require.NoError(t, os.WriteFile(path+".20261120T000000.gz.tmp", []byte("junk"), 0o640))
	env := newTestEnv(t, func(c *Config) { c.Path = path })
	env.push(lines("s", "new"))
	testutil.WaitFor(t, 20*time.Second, "left-over rotation compressed", func() bool { return exists(path+".20261121T000000.gz") && !exists(path+".20261121T000000") })
	assert.False(t, exists(path+".20261120T000000.gz.tmp"))
	assert.Equal(t, "old\n", string(decompressed(t, path+".20261121T000000.gz")))
	assert.Equal(t, "new\n", readFile(t, path))
}

func TestListRotatedOrder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.log")
	for _, n := range []string{"x.log.20261122T100000-10", "x.log.20261122T100000-2.gz", "x.log.20261122T100000",
		"x.log.20261121T235959.zst", "x.log.other", "x.log.20261122T1000", "x.logger.20261122T100000"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	var got []string
	for _, r := range listRotated(p) {
		got = append(got, filepath.Base(r.name))
	}
	assert.Equal(t, []string{"x.log.20261121T235959.zst", "x.log.20261122T100000", "x.log.20261122T100000-2.gz", "x.log.20261122T100000-10"}, got)
}

func TestSyncEveryBytesFlushesAndSyncs(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Path = "app.log"
		c.Flush.Interval = time.Hour // only the byte threshold writes
		c.Flush.SyncEveryBytes = 100
	})
	path := filepath.Join(env.dir, "app.log")
	env.push(lines("s", strings.Repeat("a", 59))) // 60 bytes: below
	assert.Empty(t, readFile(t, path))
	env.push(lines("s", strings.Repeat("b", 59))) // 120: flushed and synced
	assert.Equal(t, strings.Repeat("a", 59)+"\n"+strings.Repeat("b", 59)+"\n", readFile(t, path))
	env.e.mu.Lock()
	defer env.e.mu.Unlock()
	assert.Zero(t, env.e.files[path].unsynced)
}
