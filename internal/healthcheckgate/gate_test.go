package healthcheckgate_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/otelcol"

	"github.com/otelcol-logx/otelcol-logx/components"
	"github.com/otelcol-logx/otelcol-logx/internal/healthcheckgate"
)

// v2Config is a health check in the form every shipped config uses.
const v2Config = `yaml:
extensions:
  health_check:
    http:
      endpoint: 127.0.0.1:0
      status: {enabled: true, path: /}
    component_health:
      include_permanent_errors: true
      include_recoverable_errors: true
      recovery_duration: 30s
receivers:
  otlp:
    protocols: {http: {endpoint: 127.0.0.1:0}}
exporters:
  nop:
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [nop]}
`

// validate runs `otelcol-logx validate` in-process, as the binary does:
// the command line is parsed after every package's init.
func validate(t *testing.T, args ...string) error {
	t.Helper()
	cmd := otelcol.NewCommand(otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: components.Name, Version: components.Version},
		Factories: components.Factories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{ProviderFactories: components.Providers(), DefaultScheme: "env"},
		},
	})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"validate", "--config=" + v2Config}, args...))
	err := cmd.Execute()
	t.Logf("validate %v: %v %s", args, err, out.String())
	return err
}

// restoreGate puts the process-wide gate back as the distribution has it.
func restoreGate(t *testing.T) {
	t.Cleanup(func() { require.NoError(t, featuregate.GlobalRegistry().Set(healthcheckgate.GateID, true)) })
}

func gateEnabled() bool {
	on := false
	featuregate.GlobalRegistry().VisitAll(func(g *featuregate.Gate) {
		if g.ID() == healthcheckgate.GateID {
			on = g.IsEnabled()
		}
	})
	return on
}

// The distribution's default: the gate is on and the component-status form
// of health_check validates without any flag.
func TestComponentStatusHealthCheckByDefault(t *testing.T) {
	restoreGate(t)
	assert.True(t, gateEnabled())
	require.NoError(t, validate(t))
}

// The command line still wins over the default: turned off there, the
// same settings are refused with the upstream message naming the gate.
func TestCommandLineTurnsTheGateOff(t *testing.T) {
	restoreGate(t)
	err := validate(t, "--feature-gates=-"+healthcheckgate.GateID)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "feature gate is disabled")
	assert.False(t, gateEnabled())
}
