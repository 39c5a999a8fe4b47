package logxtelemetry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/nopexporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"

	"github.com/otelcol-logx/otelcol-logx/internal/configguard"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

func config(metricsPort int, otlpAddr, exporters string) string {
	return fmt.Sprintf(`
receivers:
  otlp:
    protocols: {http: {endpoint: %q}}
exporters: %s
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: %d, without_scope_info: true, without_units: true, without_type_suffix: true}
  pipelines:
    logs: {receivers: [otlp], exporters: [nop]}
`, otlpAddr, exporters, metricsPort)
}

// TestGuardMetricsOnTheCollectorEndpoint starts a collector on an invalid
// config with the last-good gate on: it runs the last good config, and its
// own metrics endpoint says so (one refusal, last reload not a success).
func TestGuardMetricsOnTheCollectorEndpoint(t *testing.T) {
	dir := t.TempDir()
	port := testutil.FreeTCPPort(t)
	good := config(port, testutil.FreeTCPAddr(t), "{nop: {}}")
	require.NoError(t, os.WriteFile(filepath.Join(dir, configguard.LastGoodFile), []byte(good), 0o600))
	file := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(file, []byte(config(port, testutil.FreeTCPAddr(t), "{}")), 0o600))

	guard := configguard.New(configguard.Settings{
		StateDir: dir, Mode: configguard.ModeRun, ConfigFiles: []string{file},
		StartWithLastGood: func() bool { return true },
	})
	tel := newFactory(guard)
	factories := func() (otelcol.Factories, error) {
		return otelcol.Factories{
			Receivers: map[component.Type]receiver.Factory{component.MustNewType("otlp"): otlpreceiver.NewFactory()},
			Exporters: map[component.Type]exporter.Factory{component.MustNewType("nop"): nopexporter.NewFactory()},
			Telemetry: tel,
		}, nil
	}
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo: component.NewDefaultBuildInfo(),
		Factories: factories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:               []string{file},
			ProviderFactories:  []confmap.ProviderFactory{guard.WrapProvider(fileprovider.NewFactory())},
			ConverterFactories: []confmap.ConverterFactory{guard.ConverterFactory(factories)},
		}},
		DisableGracefulShutdown: true,
		SkipSettingGRPCLogger:   true,
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- col.Run(context.Background()) }()
	t.Cleanup(func() {
		col.Shutdown()
		assert.NoError(t, <-done)
	})

	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	var body string
	require.Eventually(t, func() bool {
		body = scrape(url)
		return strings.Contains(body, "otelcol_logx_config_reload_failures")
	}, 20*time.Second, 10*time.Millisecond, "guard metrics never appeared on %s", url)
	assert.Contains(t, body, "\notelcol_logx_config_reload_failures 1\n")
	assert.Contains(t, body, "\notelcol_logx_config_last_reload_success 0\n")
}

func scrape(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
