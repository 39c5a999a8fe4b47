package fiforeceiver

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, want, fi.Mode().Perm())
}

// TestSymlinkSwappedInAfterMkfifoIsNotFollowed: a symbolic link put in the
// FIFO's place between its creation and its permissions (by someone who
// may write the directory) is not followed: the start fails saying why,
// and the link's target keeps its mode.
func TestSymlinkSwappedInAfterMkfifoIsNotFollowed(t *testing.T) {
	target, assertUntouched := testutil.SymlinkTarget(t)
	prev := afterMkfifo
	t.Cleanup(func() { afterMkfifo = prev })
	afterMkfifo = func(path string) {
		require.NoError(t, os.Remove(path))
		require.NoError(t, os.Symlink(target, path))
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(t.TempDir(), "app.fifo")
	cfg.Mode = "0666"
	err := testutil.ReceiverStartErr(t, NewFactory(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a symbolic link: refused")
	assertUntouched()
}

// TestSymlinkToFIFOIsRefused: a symbolic link at the path is refused with
// an error saying so, even to a FIFO, and the FIFO it points to is left
// alone.
func TestSymlinkToFIFOIsRefused(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.fifo")
	require.NoError(t, unix.Mkfifo(real, 0o600))
	require.NoError(t, os.Chmod(real, 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(dir, "app.fifo")
	require.NoError(t, os.Symlink(real, cfg.Path))
	err := testutil.ReceiverStartErr(t, NewFactory(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a symbolic link: refused")
	assertMode(t, real, 0o600)
}

// TestCreatedFIFOGetsItsModeWhateverTheUmask: the configured mode is
// applied on the FIFO's descriptor, not narrowed by the umask.
func TestCreatedFIFOGetsItsModeWhateverTheUmask(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(t.TempDir(), "app.fifo")
	cfg.Mode = "0666"
	r, _, _ := startAt(t, cfg, &testutil.RefusingSink{})
	defer shutdown(t, r)
	assertMode(t, cfg.Path, 0o666)
}
