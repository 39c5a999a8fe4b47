//go:build resilience

package resilience

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// shippedHealthCheck is the health_check block of configs/<name>.yaml, as
// shipped, as a config of its own, and the recovery_duration it sets.
func shippedHealthCheck(t *testing.T, name string) (string, time.Duration) {
	t.Helper()
	b, err := os.ReadFile("../../configs/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Extensions struct {
			HealthCheck map[string]any `yaml:"health_check"`
		} `yaml:"extensions"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	hc := cfg.Extensions.HealthCheck
	ch, _ := hc["component_health"].(map[string]any)
	recovery, err := time.ParseDuration(fmt.Sprint(ch["recovery_duration"]))
	if err != nil {
		t.Fatalf("configs/%s.yaml: health_check has no component_health::recovery_duration: %v", name, err)
	}
	out, err := yaml.Marshal(map[string]any{"extensions": map[string]any{"health_check": hc}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out), recovery
}

// healthAnswer is what the component-status health check says at its top.
type healthAnswer struct {
	code      int
	Healthy   bool      `json:"healthy"`
	Status    string    `json:"status"`
	StartTime time.Time `json:"start_time"`
}

func getHealth(url string) (healthAnswer, error) {
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return healthAnswer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return healthAnswer{}, err
	}
	a := healthAnswer{code: resp.StatusCode}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("status %d, body not JSON: %.200s", resp.StatusCode, b)
	}
	return a, nil
}

// configPath is the file a collector of startCollector runs.
func configPath(t *testing.T, c *collector) string {
	t.Helper()
	i := slices.Index(c.cmd.Args, "--config")
	if i < 0 || i+1 >= len(c.cmd.Args) {
		t.Fatalf("no --config in %v", c.cmd.Args)
	}
	return c.cmd.Args[i+1]
}

// TestHealthAfterReload: the shipped edge health_check on the binary's
// defaults answers 200 with StatusOK once the pipelines run; a reload
// that changes an exporter restarts the service, and with it the health
// check, which answers 200 again from a later start and nothing of the
// old service's statuses.
func TestHealthAfterReload(t *testing.T) {
	healthCheck, _ := shippedHealthCheck(t, "edge")
	healthPort, otlpPort := testutil.FreeTCPPort(t), testutil.FreeTCPPort(t)
	config := func(exporter string) string {
		return fmt.Sprintf(`
receivers:
  otlp:
    protocols: {http: {endpoint: 127.0.0.1:%d}}
exporters:
  nop:
  debug/%s:
service:
  extensions: [health_check]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [nop, debug/%s]}
`, otlpPort, exporter, exporter) + healthCheck
	}
	col := startCollector(t, "health-reload", "", config("a"), fmt.Sprintf("LOGX_HEALTH_ENDPOINT=127.0.0.1:%d", healthPort))
	url := fmt.Sprintf("http://127.0.0.1:%d/", healthPort)
	var last healthAnswer
	var lastErr error
	state := func() string { return fmt.Sprintf("last answer %+v, %v", last, lastErr) }
	ok := func() bool {
		last, lastErr = getHealth(url)
		return lastErr == nil && last.code == http.StatusOK && last.Status == "StatusOK" && last.Healthy
	}
	testutil.WaitFor(t, 30*time.Second, "health 200 StatusOK", ok, state)
	first := last.StartTime

	if err := os.WriteFile(configPath(t, col), []byte(config("b")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := col.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "health 200 from the reloaded service", func() bool {
		return ok() && last.StartTime.After(first)
	}, state)
	b, err := http.Get(url + "?verbose")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(b.Body)
	b.Body.Close()
	if !strings.Contains(string(body), `"exporter:debug/b"`) || strings.Contains(string(body), `"exporter:debug/a"`) {
		t.Fatalf("the verbose answer after the reload is not the new service's: %.600s", body)
	}
	if !col.running() {
		t.Fatal("collector exited")
	}
}
