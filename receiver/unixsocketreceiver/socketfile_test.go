package unixsocketreceiver

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestSymlinkAtPathIsRefused: a symbolic link at the socket's path is
// refused with an error saying so, and neither followed nor removed.
func TestSymlinkAtPathIsRefused(t *testing.T) {
	target, assertUntouched := testutil.SymlinkTarget(t)
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(shortDir(t), "log.sock")
	require.NoError(t, os.Symlink(target, cfg.Path))
	err := testutil.ReceiverStartErr(t, NewFactory(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a symbolic link: refused")
	assertUntouched()
	fi, err := os.Lstat(cfg.Path)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeSymlink, "the link is left as it was")
}

// TestSymlinkSwappedInAfterBindIsNotFollowed: a symbolic link put in the
// socket's place between its creation and its permissions (by someone
// who may write the directory) is not followed: the permissions go on no
// file but the socket, and the start fails saying why.
func TestSymlinkSwappedInAfterBindIsNotFollowed(t *testing.T) {
	target, assertUntouched := testutil.SymlinkTarget(t)
	prev := afterBind
	t.Cleanup(func() { afterBind = prev })
	afterBind = func(path string) {
		require.NoError(t, os.Remove(path))
		require.NoError(t, os.Symlink(target, path))
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(shortDir(t), "log.sock")
	cfg.Mode = "0666"
	err := testutil.ReceiverStartErr(t, NewFactory(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a symbolic link: refused")
	assertUntouched()
}

// TestDirectoryWritableByOthersIsRefused: a socket is not made in a
// directory others may write to (without the sticky bit), where they
// could replace it; a sticky one (like /tmp) is fine.
func TestDirectoryWritableByOthersIsRefused(t *testing.T) {
	dir := shortDir(t)
	require.NoError(t, os.Chmod(dir, 0o777))
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(dir, "log.sock")
	err := testutil.ReceiverStartErr(t, NewFactory(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "may be written by other users")
	_, err = os.Lstat(cfg.Path)
	require.ErrorIs(t, err, os.ErrNotExist)

	require.NoError(t, os.Chmod(dir, 0o777|os.ModeSticky))
	assert.NoError(t, testutil.ReceiverStartErr(t, NewFactory(), cfg))
}
