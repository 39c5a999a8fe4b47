package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SymlinkTarget makes a file for a test to point a planted symbolic link
// at (a receiver's socket or FIFO path, an exporter's log file), and
// returns its path and a check that whatever followed the link neither
// wrote it nor changed its mode.
func SymlinkTarget(t testing.TB) (path string, assertUntouched func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(path, []byte("secret\n"), 0o600))
	require.NoError(t, os.Chmod(path, 0o600)) // whatever the umask
	return path, func() {
		t.Helper()
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "secret\n", string(b), "the link's target was written")
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the link's target was chmodded")
	}
}
