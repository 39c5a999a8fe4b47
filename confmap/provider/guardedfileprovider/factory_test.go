package guardedfileprovider

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
)

// Without the lastgoodconverter in the process (tests, tools that build a
// collector of their own), the provider is the upstream file provider.
func TestBehavesAsUpstreamWithoutConverter(t *testing.T) {
	p := NewFactory().Create(confmap.ProviderSettings{Logger: zap.NewNop()})
	assert.Equal(t, "file", p.Scheme())
	dir := t.TempDir()

	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte("receivers: {fifo: {}}\n"), 0o600))
	ret, err := p.Retrieve(context.Background(), "file:"+good, nil)
	require.NoError(t, err)
	conf, err := ret.AsConf()
	require.NoError(t, err)
	assert.True(t, conf.IsSet("receivers::fifo"))

	garbage := filepath.Join(dir, "garbage.yaml")
	require.NoError(t, os.WriteFile(garbage, []byte("a: [\n\t: :"), 0o600))
	ret, err = p.Retrieve(context.Background(), "file:"+garbage, nil)
	require.NoError(t, err)
	_, err = ret.AsConf()
	require.Error(t, err, "upstream hands unparsable text on as a string")

	_, err = p.Retrieve(context.Background(), "file:"+filepath.Join(dir, "missing.yaml"), nil)
	require.Error(t, err)
	require.NoError(t, p.Shutdown(context.Background()))
}
