package unixsocketreceiver

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

// started is a receiver made on a given config, with its telemetry and
// log observed.
type started struct {
	t    *testing.T
	rcv  *unixSocketReceiver
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
}

func startOn(t *testing.T, cfg *Config, sink *testutil.RefusingSink) (*started, error) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	s := &started{t: t, tel: componenttest.NewTelemetry(), logs: logs}
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = s.tel.NewTelemetrySettings()
	set.Logger = zap.New(core)
	r, err := newReceiver(set, cfg, sink)
	require.NoError(t, err)
	s.rcv = r
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		require.NoError(t, r.Shutdown(context.Background()))
		return nil, err
	}
	return s, nil
}

func (s *started) shutdown(t *testing.T, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	require.NoError(t, s.rcv.Shutdown(ctx))
}

func (s *started) logged(substr string) bool {
	for _, e := range s.logs.All() {
		if strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}

func (s *started) dropped(reason string) int64 {
	h := &harness{t: s.t, tel: s.tel}
	return h.counter("otelcol_logx_unixsocket_dropped_records", reason)
}

// TestReloadKeepsTheSocket: between the shutdown of a receiver and the
// start of the next one of the same path (an in-process reload) the
// socket stays: a writer connecting meanwhile is not refused (its
// connection waits in the backlog), and the next receiver reads it.
func TestReloadKeepsTheSocket(t *testing.T) {
	for _, transport := range []Transport{Stream, Datagram} {
		t.Run(string(transport), func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.Path = filepath.Join(shortDir(t), "r.sock")
			cfg.Transport = transport
			network := map[Transport]string{Stream: "unix", Datagram: "unixgram"}[transport]
			sink := &testutil.RefusingSink{}
			r1, err := startOn(t, cfg, sink)
			require.NoError(t, err)
			r1.shutdown(t, 5*time.Second)

			c, err := net.Dial(network, cfg.Path)
			require.NoError(t, err, "the socket stays across the reload")
			_, err = c.Write([]byte("<13>app: between\n"))
			require.NoError(t, err)

			r2, err := startOn(t, cfg, sink)
			require.NoError(t, err)
			defer r2.shutdown(t, 5*time.Second)
			assert.True(t, r2.logged("kept open across a reload"))
			testutil.WaitFor(t, 30*time.Second, "the line written in between", func() bool { return sink.LogRecordCount() == 1 })
			assert.Equal(t, "between", testutil.LogRecords(sink.AllLogs())[0].Body().Str())
			require.NoError(t, c.Close())
		})
	}
}

// TestLiveSocketIsNotReplaced: a socket another process listens on (say
// syslog-ng's /dev/log) is refused, and left working; only a socket
// nobody listens on is replaced as stale.
func TestLiveSocketIsNotReplaced(t *testing.T) {
	path := filepath.Join(shortDir(t), "live.sock")
	other, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer other.Close()
	cfg := createDefaultConfig().(*Config)
	cfg.Path = path
	_, err = startOn(t, cfg, &testutil.RefusingSink{})
	require.ErrorContains(t, err, "is in use")
	c, err := net.Dial("unix", path)
	require.NoError(t, err, "the other process still has its socket")
	c.Close()
}

// TestShutdownAccountsForEverything: with a downstream refusing
// everything, every line written before the stop, on connections that
// close right after their writes and in datagrams, is either delivered or
// counted as dropped: accepted connections are read until their writers
// close them, queued datagrams are read, and what the buffer still holds
// is counted with reason shutdown and logged once.
func TestShutdownAccountsForEverything(t *testing.T) {
	for _, transport := range []Transport{Stream, Datagram} {
		t.Run(string(transport), func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.Path = filepath.Join(shortDir(t), "a.sock")
			cfg.Transport = transport
			sink := &testutil.RefusingSink{}
			sink.SetRefusing(true)
			s, err := startOn(t, cfg, sink)
			require.NoError(t, err)
			const conns, perConn = 20, 500
			network := map[Transport]string{Stream: "unix", Datagram: "unixgram"}[transport]
			for i := range conns {
				c, err := net.Dial(network, cfg.Path)
				require.NoError(t, err)
				for j := range perConn {
					_, err := fmt.Fprintf(c, "<13>app: conn %d line %d\n", i, j)
					require.NoError(t, err)
				}
				require.NoError(t, c.Close())
			}
			s.shutdown(t, 300*time.Millisecond)
			total := int64(conns * perConn)
			assert.Equal(t, total, int64(sink.LogRecordCount())+s.dropped(""))
			assert.Positive(t, s.dropped(ingest.ReasonShutdown))
			assert.True(t, s.logged("reason shutdown"))
		})
	}
}
