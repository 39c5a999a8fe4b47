package collectortest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// WithFreeSelfPorts moves the collector's own endpoints to free loopback
// ports, so that configs with fixed ones (the shipped configs/*.yaml) run in
// tests side by side and beside a collector on the same host: the endpoint
// of every health_check extension, and every Prometheus pull reader of
// service::telemetry::metrics (when the config names no reader, one such
// reader replaces the collector's default on port 8888). The rest of the
// config is left as written; HealthURL and MetricsURL say where the
// endpoints ended up.
//
// It works by merging a config over the test's, so no environment variable
// is set and tests that use it may run in parallel.
func WithFreeSelfPorts() Option {
	return func(s *settings) { s.freeSelfPorts = true }
}

// selfPorts is what WithFreeSelfPorts found in a config and where it moved it.
type selfPorts struct {
	override   string // a yaml: config URI merged over the test's config
	healthURL  string
	metricsURL string
}

// freeSelfPorts reads the test's config and builds the override.
func freeSelfPorts(t testing.TB, yamlConfig string) selfPorts {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(yamlConfig), &cfg); err != nil {
		t.Fatalf("collectortest: reading the config for WithFreeSelfPorts: %v", err)
	}
	var out selfPorts
	over := map[string]any{}

	exts, _ := cfg["extensions"].(map[string]any)
	ids := make([]string, 0, len(exts))
	for id := range exts {
		if id == "health_check" || strings.HasPrefix(id, "health_check/") {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids) // health_check itself first, then named ones
	overExts := map[string]any{}
	for _, id := range ids {
		addr := testutil.FreeTCPAddr(t)
		ext := mapAt(exts, id)
		path, where := "/", ext
		overExts[id] = map[string]any{"endpoint": addr}
		if _, v2 := ext["http"]; v2 {
			// The component-status form: server under http:, path under
			// http::status (upstream default /status).
			path, where = "/status", mapAt(mapAt(ext, "http"), "status")
			overExts[id] = map[string]any{"http": map[string]any{"endpoint": addr}}
		}
		if out.healthURL == "" {
			if p, ok := where["path"].(string); ok && p != "" && !strings.Contains(p, "${") {
				path = p
			}
			out.healthURL = "http://" + addr + path
		}
	}
	if len(overExts) > 0 {
		over["extensions"] = overExts
	}

	metrics := mapAt(mapAt(mapAt(cfg, "service"), "telemetry"), "metrics")
	readers, _ := metrics["readers"].([]any)
	if len(readers) == 0 {
		readers = []any{map[string]any{"pull": map[string]any{"exporter": map[string]any{"prometheus": map[string]any{}}}}}
	}
	firstPort := 0
	for _, r := range readers {
		prom, ok := prometheusOf(r)
		if !ok {
			continue
		}
		port := testutil.FreeTCPPort(t)
		prom["host"] = "127.0.0.1"
		prom["port"] = port
		if firstPort == 0 {
			firstPort = port
		}
	}
	over["service"] = map[string]any{"telemetry": map[string]any{"metrics": map[string]any{"readers": readers}}}
	// The metrics are served only when the config turns them on: under
	// every test config lies quietTelemetry (level none).
	if level, set := metrics["level"]; set && level != "none" && firstPort != 0 {
		out.metricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", firstPort)
	}

	b, err := yaml.Marshal(over)
	if err != nil {
		t.Fatalf("collectortest: writing the WithFreeSelfPorts override: %v", err)
	}
	out.override = "yaml:" + string(b)
	return out
}

// mapAt returns m[key] when m is a map and that value is a map; otherwise
// an empty map (that belongs to nothing).
func mapAt(m any, key string) map[string]any {
	if mm, ok := m.(map[string]any); ok {
		if v, ok := mm[key].(map[string]any); ok {
			return v
		}
		if v, present := mm[key]; present && v == nil {
			// "prometheus:" with nothing after it: an empty map, written back.
			empty := map[string]any{}
			mm[key] = empty
			return empty
		}
	}
	return map[string]any{}
}

// prometheusOf returns a metric reader's pull.exporter.prometheus settings,
// if it is such a reader.
func prometheusOf(reader any) (map[string]any, bool) {
	exporter := mapAt(mapAt(reader, "pull"), "exporter")
	if _, ok := exporter["prometheus"]; !ok {
		return nil, false
	}
	return mapAt(exporter, "prometheus"), true
}

// HealthURL is the URL of the health_check extension that WithFreeSelfPorts
// moved, or "" when the collector was started without it or the config has
// no health_check.
func (c *Collector) HealthURL() string { return c.self.healthURL }

// MetricsURL is the URL of the collector's own Prometheus endpoint that
// WithFreeSelfPorts moved, or "" when the collector was started without it
// or the config does not turn the collector's metrics on.
func (c *Collector) MetricsURL() string { return c.self.metricsURL }

// WaitHealthy polls HealthURL until it answers 200 OK, and fails the test
// if it does not within the start-up timeout.
func (c *Collector) WaitHealthy(t testing.TB) {
	t.Helper()
	if c.self.healthURL == "" {
		t.Fatal("collectortest: WaitHealthy: no health_check endpoint (start with WithFreeSelfPorts and a health_check extension)")
	}
	poll(t, c.self.healthURL, func(int, string) bool { return true })
}

// WaitMetrics polls MetricsURL until it answers 200 OK with an exposition
// for which ok is true, and returns that exposition; it fails the test if
// that does not happen within the start-up timeout.
func (c *Collector) WaitMetrics(t testing.TB, ok func(exposition string) bool) string {
	t.Helper()
	if c.self.metricsURL == "" {
		t.Fatal("collectortest: WaitMetrics: no metrics endpoint (start with WithFreeSelfPorts and service::telemetry::metrics::level other than none)")
	}
	var got string
	poll(t, c.self.metricsURL, func(_ int, body string) bool {
		got = body
		return ok(body)
	})
	return got
}

// poll GETs url until it answers 200 OK with a body for which ok is true.
func poll(t testing.TB, url string, ok func(status int, body string) bool) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		status, body, err := get(client, url)
		switch {
		case err != nil:
			last = err.Error()
		case status != http.StatusOK:
			last = fmt.Sprintf("status %d: %.200s", status, body)
		case ok(status, body):
			return
		default:
			last = fmt.Sprintf("status 200 but not what the test waits for: %.500s", body)
		}
		select {
		case <-deadline.C:
			t.Fatalf("collectortest: %s within %v: last %s", url, startTimeout, last)
		case <-tick.C:
		}
	}
}

func get(client *http.Client, url string) (int, string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close() //nolint:errcheck // response body, read in full below
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
