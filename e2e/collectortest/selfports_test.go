package collectortest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// fixedSelfPorts is written as the shipped configs are: health check and
// Prometheus endpoint on fixed loopback ports, the health one overridable by
// an environment variable.
const fixedSelfPorts = `
extensions:
  health_check:
    endpoint: ${env:LOGX_HEALTH_ENDPOINT:-127.0.0.1:13133}
receivers:
  otlp:
    protocols:
      http:
        endpoint: OTLP
exporters:
  sink/out: {}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${env:LOGX_METRICS_PORT:-8888}
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [sink/out]
`

func hasOtelcolMetric(exposition string) bool {
	return strings.HasPrefix(exposition, "otelcol_") || strings.Contains(exposition, "\notelcol_")
}

// Two collectors on the same config with fixed ports run at once, each with
// its own health check and metrics endpoint, both answering. (Not parallel
// with the package's other tests: otelcol sets grpc's global logger when a
// collector starts, which races with a running gRPC server's logging; these
// collectors receive over HTTP.)
func TestFreeSelfPortsTwoCollectorsSideBySide(t *testing.T) {
	var cols []*Collector
	for range 2 {
		cfg := strings.Replace(fixedSelfPorts, "OTLP", testutil.FreeTCPAddr(t), 1)
		cols = append(cols, Start(t, cfg, WithFreeSelfPorts(), WithSinks(map[string]*Sink{"out": {}})))
	}
	for _, c := range cols {
		require.NotEmpty(t, c.HealthURL())
		require.NotEmpty(t, c.MetricsURL())
		assert.NotContains(t, c.HealthURL(), ":13133")
		assert.NotContains(t, c.MetricsURL(), ":8888/")
		c.WaitHealthy(t)
		c.WaitMetrics(t, hasOtelcolMetric)
	}
	assert.NotEqual(t, cols[0].HealthURL(), cols[1].HealthURL())
	assert.NotEqual(t, cols[0].MetricsURL(), cols[1].MetricsURL())
}

// A config that turns the metrics on but names no reader would get the
// collector's default reader on port 8888; the option gives it a free one.
func TestFreeSelfPortsDefaultReader(t *testing.T) {
	c := Start(t, `
receivers:
  otlp:
    protocols:
      http:
        endpoint: `+testutil.FreeTCPAddr(t)+`
exporters:
  sink/out: {}
service:
  telemetry:
    metrics:
      level: basic
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [sink/out]
`, WithFreeSelfPorts(), WithSinks(map[string]*Sink{"out": {}}))
	assert.Empty(t, c.HealthURL(), "no health_check in the config, none added")
	require.NotEmpty(t, c.MetricsURL())
	c.WaitMetrics(t, hasOtelcolMetric)
}

// The override moves only the ports: other reader settings, named
// health_check instances and their paths, and non-Prometheus readers stay.
func TestFreeSelfPortsOverride(t *testing.T) {
	t.Parallel()
	sp := freeSelfPorts(t, `
extensions:
  health_check/b:
    endpoint: 127.0.0.1:1
  health_check:
    endpoint: 127.0.0.1:2
    path: /healthz
  file_storage: {}
service:
  telemetry:
    metrics:
      level: detailed
      readers:
        - periodic:
            exporter:
              otlp:
                protocol: grpc
                endpoint: http://127.0.0.1:4317
        - pull:
            exporter:
              prometheus:
                host: localhost
                port: 8888
                without_units: true
`)
	require.True(t, strings.HasPrefix(sp.override, "yaml:"))
	var over map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(strings.TrimPrefix(sp.override, "yaml:")), &over))

	exts := mapAt(over, "extensions")
	require.Len(t, exts, 2, "both health_check instances, nothing else")
	a, b := mapAt(exts, "health_check")["endpoint"], mapAt(exts, "health_check/b")["endpoint"]
	assert.NotEqual(t, "127.0.0.1:2", a)
	assert.NotEqual(t, "127.0.0.1:1", b)
	assert.Equal(t, "http://"+a.(string)+"/healthz", sp.healthURL, "health_check itself, with its path")

	readers := mapAt(mapAt(mapAt(over, "service"), "telemetry"), "metrics")["readers"].([]any)
	require.Len(t, readers, 2)
	assert.Equal(t, "http://127.0.0.1:4317", mapAt(mapAt(mapAt(readers[0], "periodic"), "exporter"), "otlp")["endpoint"])
	prom, ok := prometheusOf(readers[1])
	require.True(t, ok)
	assert.Equal(t, "127.0.0.1", prom["host"])
	assert.NotEqual(t, 8888, prom["port"])
	assert.Equal(t, true, prom["without_units"])
	assert.Contains(t, sp.metricsURL, ":"+yamlString(t, prom["port"])+"/metrics")
}

// Without a metrics level the collector's metrics are off (quietTelemetry):
// there is no URL to scrape.
func TestFreeSelfPortsMetricsOff(t *testing.T) {
	t.Parallel()
	sp := freeSelfPorts(t, "receivers: {}\n")
	assert.Empty(t, sp.metricsURL)
	assert.Empty(t, sp.healthURL)
	sp = freeSelfPorts(t, "service:\n  telemetry:\n    metrics:\n      level: none\n")
	assert.Empty(t, sp.metricsURL)
}

func yamlString(t *testing.T, v any) string {
	b, err := yaml.Marshal(v)
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}
