//go:build !interop

package logfileexporter

import (
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"
)

// decompressed reads a rotated file compressed with gzip (through the
// standard library, not the writer's package) or zstd. With -tags interop
// the system's zcat and zstdcat read it instead.
func decompressed(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var r io.Reader
	switch {
	case strings.HasSuffix(path, ".gz"):
		zr, err := gzip.NewReader(f)
		require.NoError(t, err, path)
		defer zr.Close()
		r = zr
	case strings.HasSuffix(path, ".zst"):
		zr, err := zstd.NewReader(f)
		require.NoError(t, err, path)
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("%s: not a compressed rotation", path)
	}
	out, err := io.ReadAll(r)
	require.NoError(t, err, path)
	return out
}
