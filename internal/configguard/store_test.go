package configguard

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.uber.org/zap"
)

func newFileProvider() confmap.Provider {
	return fileprovider.NewFactory().Create(confmap.ProviderSettings{Logger: zap.NewNop()})
}

func TestWriteAtomicReplacesWithPrivateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, LastGoodFile)
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, writeAtomic(path, []byte("new")))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new", string(b))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temp file left")
}

func TestWriteAtomicFailsWithoutDirectory(t *testing.T) {
	require.Error(t, writeAtomic(filepath.Join(t.TempDir(), "missing", LastGoodFile), []byte("x")))
}

// TestEncodeRoundTrip: what is written reads back as the same configuration.
func TestEncodeRoundTrip(t *testing.T) {
	conf := confmap.NewFromStringMap(map[string]any{
		"receivers": map[string]any{"fifo": map[string]any{"path": "/run/x.fifo", "max": 3}},
		"service":   map[string]any{"pipelines": map[string]any{"logs": map[string]any{"receivers": []any{"fifo"}}}},
	})
	data, err := encode(conf)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), LastGoodFile)
	require.NoError(t, writeAtomic(path, data))
	back, err := readLastGood(path)
	require.NoError(t, err)
	assert.Equal(t, conf.ToStringMap(), back.ToStringMap())
}

func TestReadLastGoodRefusesEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), LastGoodFile)
	require.NoError(t, os.WriteFile(path, []byte("\n"), 0o600))
	_, err := readLastGood(path)
	require.ErrorContains(t, err, "is empty")
}
