package collectortest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The component-status form of health_check (every shipped config's) keeps
// its server under http: and its path under http::status; the override
// moves that server, and the URL carries that path (upstream's /status
// when the config names none).
func TestFreeSelfPortsComponentStatusHealthCheck(t *testing.T) {
	t.Parallel()
	sp := freeSelfPorts(t, `
extensions:
  health_check:
    http:
      endpoint: 127.0.0.1:2
      status: {enabled: true, path: /healthz}
    component_health: {include_recoverable_errors: true}
  health_check/b:
    http:
      endpoint: 127.0.0.1:1
`)
	var over map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(strings.TrimPrefix(sp.override, "yaml:")), &over))
	exts := mapAt(over, "extensions")
	a := mapAt(mapAt(exts, "health_check"), "http")["endpoint"]
	b := mapAt(mapAt(exts, "health_check/b"), "http")["endpoint"]
	require.IsType(t, "", a)
	assert.NotEqual(t, "127.0.0.1:2", a)
	assert.NotEqual(t, "127.0.0.1:1", b)
	assert.NotContains(t, mapAt(exts, "health_check"), "endpoint", "the old form's endpoint would be ignored")
	assert.Equal(t, "http://"+a.(string)+"/healthz", sp.healthURL)

	sp = freeSelfPorts(t, "extensions:\n  health_check:\n    http:\n")
	require.NoError(t, yaml.Unmarshal([]byte(strings.TrimPrefix(sp.override, "yaml:")), &over))
	addr := mapAt(mapAt(mapAt(over, "extensions"), "health_check"), "http")["endpoint"]
	require.IsType(t, "", addr)
	assert.Equal(t, "http://"+addr.(string)+"/status", sp.healthURL)
}

// A collector with the shipped form of health_check on a fixed port starts
// in-process on a free one and reports itself healthy there.
func TestFreeSelfPortsComponentStatusHealthCheckAnswers(t *testing.T) {
	cfg := strings.Replace(fixedSelfPorts, `
  health_check:
    endpoint: ${env:LOGX_HEALTH_ENDPOINT:-127.0.0.1:13133}`, `
  health_check:
    http:
      endpoint: ${env:LOGX_HEALTH_ENDPOINT:-127.0.0.1:13133}
      status: {enabled: true, path: /}
    component_health:
      include_permanent_errors: true
      include_recoverable_errors: true
      recovery_duration: 30s`, 1)
	require.NotEqual(t, fixedSelfPorts, cfg)
	cfg = strings.Replace(cfg, "OTLP", testutil.FreeTCPAddr(t), 1)
	c := Start(t, cfg, WithFreeSelfPorts(), WithSinks(map[string]*Sink{"out": {}}))
	require.NotContains(t, c.HealthURL(), ":13133")
	c.WaitHealthy(t)
}
