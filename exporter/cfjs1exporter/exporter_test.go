package cfjs1exporter

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/exporter/cfjs1exporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// lineSink is a loopback TCP server that counts lines and, when a sender
// says hello, acknowledges each chunk it read: the cheapest peer possible,
// so benchmarks measure the exporter.
type lineSink struct {
	ln    net.Listener
	lines atomic.Int64
	mu    sync.Mutex
	got   bytes.Buffer // kept only when keep is set
	keep  bool
	mute  atomic.Bool // half alive: reads everything, handles and acks nothing
	wg    sync.WaitGroup
}

func newLineSink(t testing.TB, keep bool) *lineSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &lineSink{ln: ln, keep: keep}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

func (s *lineSink) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 256<<10)
	var seq uint64
	acking, first := false, true
	var ack []byte
	for {
		n, err := c.Read(buf)
		if n > 0 && s.mute.Load() {
			n = 0
		}
		if n > 0 {
			chunk := buf[:n]
			if first {
				first = false
				if bytes.HasPrefix(chunk, []byte(cfjs1.HelloLine)) {
					acking = true
					chunk = chunk[len(cfjs1.HelloLine):]
					ack = cfjs1.AppendAck(ack[:0], 0)
					_, _ = c.Write(ack)
				}
			}
			lines := bytes.Count(chunk, []byte{'\n'})
			pings := bytes.Count(chunk, []byte(cfjs1.PingLine))
			seq += uint64(lines - pings)
			s.lines.Add(int64(lines - pings))
			if s.keep {
				s.mu.Lock()
				s.got.Write(chunk)
				s.mu.Unlock()
			}
			if acking {
				ack = cfjs1.AppendAck(ack[:0], seq)
				if _, err := c.Write(ack); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (s *lineSink) addr() string { return s.ln.Addr().String() }

func testConfig(endpoints ...EndpointConfig) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoints = endpoints
	cfg.Failback.InitialBackoff = 50 * time.Millisecond
	cfg.Failback.MaxBackoff = 200 * time.Millisecond
	cfg.Failback.HealthyFor = 300 * time.Millisecond
	return cfg
}

func startExporter(t testing.TB, cfg *Config) *cfjs1Exporter {
	t.Helper()
	require.NoError(t, cfg.Validate())
	e, err := newExporter(exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })
	return e
}

func makeLogs(n int, format string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(logattr.HostName, "edge-17.example.net")
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		r := recs.AppendEmpty()
		r.SetTimestamp(1_700_000_000_000_000_000 + 1000*pcommonTimestamp(i))
		r.Body().SetStr(`192.0.2.1 - - "GET /index.html HTTP/1.1" 200 5120 "-" "curl/8.0"`)
		a := r.Attributes()
		if format != "" {
			a.PutStr(logattr.CFJS1Format, format)
		}
		a.PutStr(logattr.Service, "nginx.service")
		a.PutStr(logattr.SyslogAppName, "nginx")
		a.PutStr(logattr.SyslogProcID, "1234")
		a.PutInt(logattr.SyslogFacility, 3)
		a.PutStr("dc", "ams01")
		a.PutStr("unit.status", "active")
		a.PutInt("peer.pid", 1234)
		a.PutBool("sampled", true)
		a.PutInt("i", int64(i))
	}
	return ld
}

func decodeAll(t *testing.T, data []byte) []cfjs1.Meta {
	var out []cfjs1.Meta
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		sl := rl.ScopeLogs().AppendEmpty()
		m, err := cfjs1.Decode(sc.Bytes(), nil, cfjs1.Target{Resource: rl.Resource(), Scope: sl.Scope(), Record: sl.LogRecords().AppendEmpty()})
		require.NoError(t, err, "%s", sc.Bytes())
		out = append(out, m)
	}
	return out
}

func TestFormatAndWrapperFromConfig(t *testing.T) {
	sink := newLineSink(t, true)
	cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: sink.addr()})
	cfg.Wrappers = map[string]string{"nginx": "nginx_log"}
	e := startExporter(t, cfg)
	ld := makeLogs(2, "nginx")
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1).Attributes().Remove(logattr.CFJS1Format)
	require.NoError(t, e.pushLogs(context.Background(), ld))
	sink.mu.Lock()
	metas := decodeAll(t, sink.got.Bytes())
	sink.mu.Unlock()
	assert.Equal(t, []cfjs1.Meta{{Format: "nginx", Wrapper: "nginx_log"}, {Format: "syslog", Wrapper: "syslog"}}, metas)
}

func TestFailoverUsesFirstHealthy(t *testing.T) {
	first, second := newLineSink(t, false), newLineSink(t, false)
	cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: first.addr()}, EndpointConfig{Name: "log-b", Endpoint: second.addr()})
	cfg.Mode = ModeFailover
	e := startExporter(t, cfg)
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(10, "app")))
	assert.EqualValues(t, 10, first.lines.Load())
	assert.EqualValues(t, 0, second.lines.Load())

	// The first goes away: its connection is found dead, the second takes over.
	require.NoError(t, first.ln.Close())
	e.endpoints[0].current().close(errClosed)
	require.Eventually(t, func() bool { return !e.endpoints[0].isUp() }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(10, "app")))
	assert.EqualValues(t, 10, second.lines.Load())
}

func TestPlainPeerWithoutAcks(t *testing.T) {
	// A plain receiver (syslog-ng, socat) gets only data lines.
	sink := newLineSink(t, true)
	no := false
	e := startExporter(t, testConfig(EndpointConfig{Name: "plain", Endpoint: sink.addr(), Ack: &no}))
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(3, "app")))
	require.Eventually(t, func() bool { return sink.lines.Load() == 3 }, 5*time.Second, 5*time.Millisecond)
	sink.mu.Lock()
	defer sink.mu.Unlock()
	assert.NotContains(t, sink.got.String(), "cfjs1_ctl")
	assert.Len(t, decodeAll(t, sink.got.Bytes()), 3)
}

func TestAckToPlainPeerIsDown(t *testing.T) {
	// A peer that never answers the hello is not taken for a cfjs1 receiver.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = bufio.NewReader(c).WriteTo(discard{}); _ = c.Close() }()
		}
	}()
	cfg := testConfig(EndpointConfig{Name: "mute", Endpoint: ln.Addr().String()})
	cfg.Ack.Timeout = 200 * time.Millisecond
	e := startExporter(t, cfg)
	assert.False(t, e.endpoints[0].isUp())
	require.Error(t, e.pushLogs(context.Background(), makeLogs(1, "app")))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkExportToLoopback(b *testing.B) {
	for _, ack := range []bool{true, false} {
		name := "ack"
		if !ack {
			name = "noack"
		}
		b.Run(name, func(b *testing.B) {
			sink := newLineSink(b, false)
			a := ack
			e := startExporter(b, testConfig(EndpointConfig{Name: "log-a", Endpoint: sink.addr(), Ack: &a}))
			ld := makeLogs(1000, "nginx")
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				if err := e.pushLogs(context.Background(), ld); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(b.N*1000)/elapsed.Seconds(), "lines/s")
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*1000), "ns/line")
		})
	}
}

func pcommonTimestamp(i int) pcommon.Timestamp { return pcommon.Timestamp(i) }
