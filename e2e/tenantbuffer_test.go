package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestTenantbufferExampleConfigRuns starts a collector on configs/example-tenantbuffer.yaml
// (its fixed loopback ports swapped for free ones, its state in a temp dir)
// and checks that it reports itself healthy and serves its own metrics.
func TestTenantbufferExampleConfigRuns(t *testing.T) {
	b, err := os.ReadFile("../configs/example-tenantbuffer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "127.0.0.1:14317", testutil.FreeTCPAddr(t), 1)
	t.Setenv("LOGX_STATE_DIR", t.TempDir())
	col := collectortest.Start(t, cfg, collectortest.WithFreeSelfPorts())
	col.WaitHealthy(t)
	col.WaitMetrics(t, func(m string) bool { return strings.Contains(m, "\notelcol_process_uptime ") })
	if err := col.Shutdown(); err != nil {
		t.Fatal(err)
	}
}
