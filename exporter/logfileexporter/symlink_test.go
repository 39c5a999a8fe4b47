package logfileexporter

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestSymlinkAtLogPathIsRefused: a link planted where a log file goes is
// neither written through nor chmodded; its records are dropped and
// counted, with an error that says why.
func TestSymlinkAtLogPathIsRefused(t *testing.T) {
	target, checkUntouched := testutil.SymlinkTarget(t)
	env := newTestEnv(t, func(c *Config) {
		c.Path = "{logx.service}.log"
		c.Permissions.FileMode = "0666"
	})
	link := filepath.Join(env.dir, "evil.log")
	require.NoError(t, os.Symlink(target, link))

	env.push(lines("evil", "one", "two"))
	env.push(lines("good", "fine"))
	checkUntouched()
	assert.Equal(t, int64(2), env.counter("otelcol_logx_logfile_records_dropped", metadata.ReasonSymlink))
	assert.Equal(t, int64(1), env.counter("otelcol_logx_logfile_records_written", ""))
	assert.Equal(t, "fine\n", readFile(t, filepath.Join(env.dir, "good.log")))
	st, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, st.Mode().Type(), "the link itself is left alone")

	_, err = env.e.perms.openFile(env.dir, link)
	require.ErrorIs(t, err, errSymlink)
	assert.Contains(t, err.Error(), link+" is a symbolic link; refusing to follow it")
}

// TestSymlinkReplacingAnOpenFileIsRefused: logrotate-style replacement of
// an open file by a link is noticed by the reopen check, and the path is
// not reopened through the link.
func TestSymlinkReplacingAnOpenFileIsRefused(t *testing.T) {
	target, checkUntouched := testutil.SymlinkTarget(t)
	env := newTestEnv(t, func(c *Config) { c.Path = "app.log" })
	path := filepath.Join(env.dir, "app.log")
	env.push(lines("s", "before"))
	require.NoError(t, os.Rename(path, path+".1"))
	require.NoError(t, os.Symlink(target, path))
	env.e.maintain(env.clock.Advance(2 * time.Second))
	env.push(lines("s", "after"))
	checkUntouched()
	assert.Equal(t, "before\n", readFile(t, path+".1"))
	assert.Equal(t, int64(1), env.counter("otelcol_logx_logfile_records_dropped", metadata.ReasonSymlink))
}

// TestSymlinkedDirectoryBelowTemplateIsRefused: a directory rendered from
// an attribute that is a link to elsewhere is not followed; directories
// the exporter creates get dir_mode whatever the umask.
func TestSymlinkedDirectoryBelowTemplateIsRefused(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	elsewhere := t.TempDir()
	env := newTestEnv(t, func(c *Config) {
		c.Path = "logs/{logx.service}/app.log"
		c.Permissions.DirMode = "0755"
	})
	require.NoError(t, os.MkdirAll(filepath.Join(env.dir, "logs"), 0o755))
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(env.dir, "logs", "evil")))

	env.push(lines("evil", "x"))
	env.push(lines("good", "y"))
	assert.NoFileExists(t, filepath.Join(elsewhere, "app.log"))
	assert.Equal(t, int64(1), env.counter("otelcol_logx_logfile_records_dropped", metadata.ReasonSymlink))
	assert.Equal(t, "y\n", readFile(t, filepath.Join(env.dir, "logs", "good", "app.log")))
	st, err := os.Lstat(filepath.Join(env.dir, "logs", "good"))
	require.NoError(t, err)
	assert.True(t, st.IsDir())
	assert.Equal(t, os.FileMode(0o755), st.Mode().Perm(), "created with dir_mode despite umask 077")
}

// TestSymlinkAsRotatedFileIsNotCompressed: a link swapped in for a
// rotated file is not read and copied into a compressed file that others
// may read.
func TestSymlinkAsRotatedFileIsNotCompressed(t *testing.T) {
	target, checkUntouched := testutil.SymlinkTarget(t)
	env := newTestEnv(t, func(c *Config) { c.Path = "app.log" })
	src := filepath.Join(env.dir, "app.log.20261122T100000")
	require.NoError(t, os.Symlink(target, src))
	_, err := env.e.compress.compressFile(src, src+".gz")
	require.ErrorIs(t, err, errSymlink)
	assert.NoFileExists(t, src+".gz")
	assert.NoFileExists(t, src+".gz.tmp")
	checkUntouched()
}

// TestFIFOAtLogPathDoesNotHang: opening a FIFO for writing blocks until a
// reader comes; one planted at a log path is refused at once instead.
func TestFIFOAtLogPathDoesNotHang(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.Path = "{logx.service}.log" })
	fifo := filepath.Join(env.dir, "fifo.log")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	done := make(chan struct{})
	go func() {
		defer close(done)
		env.push(lines("fifo", "x"))
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		// Let the hung open return (a reader arrives) before failing.
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			defer r.Close()
		}
		<-done
		t.Fatal("the write hung on a FIFO")
	}
	assert.Equal(t, int64(1), env.counter("otelcol_logx_logfile_records_dropped", metadata.ReasonOpen))
}
