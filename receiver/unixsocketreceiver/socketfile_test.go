package unixsocketreceiver

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

// startErr starts a receiver on cfg and returns the error of Start (the
// receiver is shut down).
func startErr(t *testing.T, cfg *Config) error {
	t.Helper()
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, consumerNop{})
	require.NoError(t, err)
	err = r.Start(context.Background(), componenttest.NewNopHost())
	require.NoError(t, r.Shutdown(context.Background()))
	return err
}

// victim is a file a symbolic link points to; its mode must not change.
func victim(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "shadow")
	require.NoError(t, os.WriteFile(p, []byte("secret"), 0o600))
	return p
}

func assertUntouched(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the link's target keeps its mode")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "secret", string(b))
}

// TestSymlinkAtPathIsRefused: a symbolic link at the socket's path is
// refused with an error saying so, and neither followed nor removed.
func TestSymlinkAtPathIsRefused(t *testing.T) {
	target := victim(t)
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(shortDir(t), "log.sock")
	require.NoError(t, os.Symlink(target, cfg.Path))
	err := startErr(t, cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a symbolic link: refused")
	assertUntouched(t, target)
	fi, err := os.Lstat(cfg.Path)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeSymlink, "the link is left as it was")
}

// TestSymlinkSwappedInAfterBindIsNotFollowed: a symbolic link put in the
// socket's place between its creation and its permissions (by someone
// who may write the directory) is not followed: the permissions go on no
// file but the socket, and the start fails saying why.
func TestSymlinkSwappedInAfterBindIsNotFollowed(t *testing.T) {
	target := victim(t)
	prev := afterBind
	t.Cleanup(func() { afterBind = prev })
	afterBind = func(path string) {
		require.NoError(t, os.Remove(path))
		require.NoError(t, os.Symlink(target, path))
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(shortDir(t), "log.sock")
	cfg.Mode = "0666"
	err := startErr(t, cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a symbolic link: refused")
	assertUntouched(t, target)
}

// TestDirectoryWritableByOthersIsRefused: a socket is not made in a
// directory others may write to (without the sticky bit), where they
// could replace it; a sticky one (like /tmp) is fine.
func TestDirectoryWritableByOthersIsRefused(t *testing.T) {
	dir := shortDir(t)
	require.NoError(t, os.Chmod(dir, 0o777))
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(dir, "log.sock")
	err := startErr(t, cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "may be written by other users")
	_, err = os.Lstat(cfg.Path)
	require.ErrorIs(t, err, os.ErrNotExist)

	require.NoError(t, os.Chmod(dir, 0o777|os.ModeSticky))
	assert.NoError(t, startErr(t, cfg))
}
