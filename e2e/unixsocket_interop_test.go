//go:build interop

package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/sdactivation"
)

// TestExampleConfigWithLogger runs configs/example-unixsocket.yaml (its
// debug exporter swapped for a sink, its health check and metrics endpoint
// moved to free loopback ports) in a whole collector and sends lines with
// logger(1), stream and datagram, as the README shows.
func TestExampleConfigWithLogger(t *testing.T) {
	state, err := os.MkdirTemp("/tmp", "use2e") // short: a socket path is at most 107 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(state) })
	t.Setenv("LOGX_STATE_DIR", state)
	raw, err := os.ReadFile(filepath.Join("..", "configs", "example-unixsocket.yaml"))
	require.NoError(t, err)
	cfg := strings.Replace(string(raw), "exporters: [debug]", "exporters: [sink/out]", 1)
	cfg = strings.Replace(cfg, "exporters:\n", "exporters:\n  sink/out: {}\n", 1)
	sink := &collectortest.Sink{}
	col := collectortest.Start(t, cfg, collectortest.WithSinks(map[string]*collectortest.Sink{"out": sink}),
		collectortest.WithFreeSelfPorts())
	col.WaitHealthy(t)

	out, err := exec.Command("logger", "--socket", filepath.Join(state, "log.sock"), "--tcp", "-t", "myapp", "hello over a stream").CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command("logger", "--socket", filepath.Join(state, "dev-log"), "--udp", "--rfc3164", "-t", "dgapp", "hello in a datagram").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 2 }, 30*time.Second, 5*time.Millisecond)

	type identity struct{ service, claimed string }
	bodies := map[string]identity{}
	for _, ld := range sink.AllLogs() {
		lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for i := 0; i < lrs.Len(); i++ {
			svc, _ := lrs.At(i).Attributes().Get(logattr.Service)
			claimed, _ := lrs.At(i).Attributes().Get(logattr.ServiceClaimed)
			bodies[lrs.At(i).Body().Str()] = identity{svc.Str(), claimed.Str()}
		}
	}
	require.Len(t, bodies, 2)
	// logger(1) runs in the test's cgroup: under a systemd unit its
	// records carry it; else its user, the tag being only a claim.
	for body, tag := range map[string]string{"hello in a datagram": "dgapp", "hello over a stream": "myapp"} {
		got := bodies[body]
		if got.claimed == "" {
			assert.Regexp(t, `\.(service|scope)$`, got.service, body)
		} else {
			assert.Equal(t, identity{fmt.Sprintf("uid-%d", os.Getuid()), tag}, got, body)
		}
	}
	// The sockets stay open for a moment after shutdown, for the
	// receivers an in-process reload would make, then go with their files.
	defer sdactivation.SetParkFor(50 * time.Millisecond)()
	require.NoError(t, col.Shutdown())
	for _, name := range []string{"log.sock", "dev-log"} {
		require.Eventually(t, func() bool {
			_, err := os.Stat(filepath.Join(state, name))
			return errors.Is(err, os.ErrNotExist)
		}, 10*time.Second, 5*time.Millisecond, name+" removed once no reload took it back")
	}
}
