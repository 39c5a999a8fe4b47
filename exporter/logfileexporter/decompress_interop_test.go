//go:build interop

package logfileexporter

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// decompressed reads a rotated file with the tool an operator would use
// (zcat from gzip, zstdcat from zstd: scripts/deps.sh installs them).
func decompressed(t *testing.T, path string) []byte {
	t.Helper()
	tool := "zcat"
	if strings.HasSuffix(path, ".zst") {
		tool = "zstdcat"
	}
	out, err := exec.Command(tool, path).Output()
	require.NoError(t, err, "%s %s", tool, path)
	return out
}
