package guardedenvprovider

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
)

// Without the lastgoodconverter in the process the provider is upstream's.
func TestBehavesAsUpstreamWithoutConverter(t *testing.T) {
	t.Setenv("LOGX_GUARDED_ENV_TEST", "42")
	p := NewFactory().Create(confmap.ProviderSettings{Logger: zap.NewNop()})
	assert.Equal(t, "env", p.Scheme())
	ret, err := p.Retrieve(context.Background(), "env:LOGX_GUARDED_ENV_TEST", nil)
	require.NoError(t, err)
	s, err := ret.AsString()
	require.NoError(t, err)
	assert.Equal(t, "42", s)
	_, err = p.Retrieve(context.Background(), "env:NOT-A-NAME", nil)
	require.Error(t, err)
	require.NoError(t, p.Shutdown(context.Background()))
}
