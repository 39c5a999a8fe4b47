package tenantbufferexporter_test

import (
	"os"
	"strings"
	"testing"

	"github.com/otelcol-logx/otelcol-logx/internal/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestExampleConfigRuns starts a collector on configs/example-tenantbuffer.yaml
// (its fixed loopback ports swapped for free ones, its state in a temp dir).
func TestExampleConfigRuns(t *testing.T) {
	b, err := os.ReadFile("../../configs/example-tenantbuffer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer(
		"127.0.0.1:13134", testutil.FreeTCPAddr(t),
		"127.0.0.1:14317", testutil.FreeTCPAddr(t),
	).Replace(string(b))
	t.Setenv("LOGX_STATE_DIR", t.TempDir())
	col := collectortest.Start(t, cfg)
	if err := col.Shutdown(); err != nil {
		t.Fatal(err)
	}
}
