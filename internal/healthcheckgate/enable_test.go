package healthcheckgate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/featuregate"
)

func TestEnable(t *testing.T) {
	reg := featuregate.NewRegistry()
	alpha := reg.MustRegister("x.alpha", featuregate.StageAlpha)
	stable := reg.MustRegister("x.stable", featuregate.StageStable, featuregate.WithRegisterToVersion("v9.9.9"))

	require.NoError(t, enable(reg, "x.alpha"))
	assert.True(t, alpha.IsEnabled(), "an alpha gate is turned on")
	require.NoError(t, enable(reg, "x.alpha"), "twice is fine")

	require.NoError(t, enable(reg, "x.stable"), "a stable gate is on already and left alone")
	assert.True(t, stable.IsEnabled())

	err := enable(reg, GateID)
	require.Error(t, err, "a gate upstream removed must fail loudly")
	assert.Contains(t, err.Error(), GateID)
}

// In this process the upstream gate exists and init turned it on.
func TestInitEnabledTheUpstreamGate(t *testing.T) {
	var found, on bool
	featuregate.GlobalRegistry().VisitAll(func(g *featuregate.Gate) {
		if g.ID() == GateID {
			found, on = true, g.IsEnabled()
		}
	})
	require.True(t, found)
	assert.True(t, on)
}
