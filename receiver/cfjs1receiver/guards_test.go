package cfjs1receiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// guardValues reads a guard metric by guard name.
func (r *telReceiver) guardValues(t *testing.T, name string) map[string]float64 {
	t.Helper()
	return testutil.GaugeByAttribute(t, r.tel, name, "guard")
}

func TestGuardsReportHowFullEachCapIs(t *testing.T) {
	r := startTelReceiver(t, &consumertest.LogsSink{}, func(c *Config) {
		c.MaxConnections, c.MaxConnectionsPerPeer = 8, 4
	})
	assert.Equal(t, map[string]float64{"max_connections": 0, "max_connections_per_peer": 0, "max_buffered_bytes": 0},
		r.guardValues(t, guard.MetricDisabled), "every guard is on, and none can be switched off")
	dial(t, r.cfjs1Receiver)
	dial(t, r.cfjs1Receiver)
	require.Eventually(t, func() bool {
		u := r.guardValues(t, guard.MetricUtilization)
		return u["max_connections"] == 2.0/8 && u["max_connections_per_peer"] == 2.0/4
	}, 10*time.Second, 5*time.Millisecond)
}
