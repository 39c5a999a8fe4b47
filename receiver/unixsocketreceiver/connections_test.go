package unixsocketreceiver

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// guardValue reads a guard metric of the receiver for one guard.
func (h *harness) guardValue(metric, name string) (float64, bool) {
	m, err := h.tel.GetMetric(metric)
	if err != nil {
		return 0, false
	}
	match := func(set attribute.Set) bool {
		v, ok := set.Value("guard")
		return ok && v.AsString() == name
	}
	switch data := m.Data.(type) {
	case metricdata.Gauge[float64]:
		for _, dp := range data.DataPoints {
			if match(dp.Attributes) {
				return dp.Value, true
			}
		}
	case metricdata.Gauge[int64]:
		for _, dp := range data.DataPoints {
			if match(dp.Attributes) {
				return float64(dp.Value), true
			}
		}
	}
	return 0, false
}

// TestIdleConnectionIsClosed: a connection that sends nothing for
// idle_timeout is closed by the receiver (its slot freed) and counted;
// what it sent before is delivered.
func TestIdleConnectionIsClosed(t *testing.T) {
	const idle = 200 * time.Millisecond
	h := newHarness(t, func(c *Config) { c.IdleTimeout = idle })
	c := h.dial()
	defer c.Close()
	_, err := c.Write([]byte("<13>app: then silence\n"))
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	_, err = c.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "closed by the receiver, not by the test's own deadline")
	assert.GreaterOrEqual(t, time.Since(start), idle-20*time.Millisecond)
	testutil.WaitFor(t, 30*time.Second, "the close counted", func() bool {
		return h.counter("otelcol_logx_unixsocket_closed_connections", reasonIdleTimeout) == 1
	})
	testutil.WaitFor(t, 30*time.Second, "the line", func() bool { return h.sink.LogRecordCount() == 1 })
	h.rcv.mu.Lock()
	open := len(h.rcv.conns)
	h.rcv.mu.Unlock()
	assert.Zero(t, open, "the slot is free")
}

// TestShutdownIsNotAnIdleTimeout: a connection still open at shutdown is
// closed at the drain deadline, not counted as idle, and shutdown does not
// wait for the idle timeout.
func TestShutdownIsNotAnIdleTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.IdleTimeout = time.Hour })
	c := h.dial()
	defer c.Close()
	_, err := c.Write([]byte("<13>app: open\n"))
	require.NoError(t, err)
	testutil.WaitFor(t, 30*time.Second, "the line", func() bool { return h.sink.LogRecordCount() == 1 })
	start := time.Now()
	h.stop()
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Zero(t, h.counter("otelcol_logx_unixsocket_closed_connections", ""))
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	_, err = c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "closed at shutdown: %v", err)
}

// TestConnectionGuardsDisabledAreVisible: switched off, the guards say so.
func TestConnectionGuardsDisabledAreVisible(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.IdleTimeout = 0; c.MaxConnectionsPerUID = 0 })
	for name, want := range map[string]float64{"max_connections": 0, "max_connections_per_uid": 1, "idle_timeout": 1} {
		v, ok := h.guardValue(guard.MetricDisabled, name)
		assert.True(t, ok, name)
		assert.Equal(t, want, v, name)
	}
}
