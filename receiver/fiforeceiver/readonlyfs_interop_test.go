//go:build interop

// A read-only bind mount needs root (go test -tags interop; make test).

package fiforeceiver

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestAdoptsFIFOOnReadOnlyFileSystem: an existing FIFO on a file system
// the collector may not change (ProtectSystem=strict, or another daemon's
// FIFO) is opened as it is, without chmod, with its mode logged and a
// warning that it differs from the configured one. Failed with EROFS when
// the mode was applied at every start.
func TestAdoptsFIFOOnReadOnlyFileSystem(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "syslog-ng.fifo")
	require.NoError(t, unix.Mkfifo(path, 0o600))
	require.NoError(t, os.Chmod(path, 0o600))
	require.NoError(t, unix.Mount(dir, dir, "", unix.MS_BIND, ""))
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	require.NoError(t, unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""))
	require.ErrorIs(t, os.Chmod(path, 0o620), syscall.EROFS, "the mount is read-only")

	cfg := createDefaultConfig().(*Config)
	cfg.Path = path // mode 0620 configured
	sink := &testutil.RefusingSink{}
	r, _, logs := startAt(t, cfg, sink)
	defer shutdown(t, r)
	assert.True(t, logged(logs, "adopted the existing FIFO"))
	assert.True(t, logged(logs, "has mode 0600, not the configured 0620"))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "left as it was")

	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = w.Write([]byte("<13>app: adopted\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	testutil.WaitFor(t, 30*time.Second, "the line", func() bool { return sink.LogRecordCount() == 1 })
}
