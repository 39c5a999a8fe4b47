package cfjs1exporter

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-logx/otelcol-logx/exporter/cfjs1exporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
)

// v2Peer is a loopback cfjs1 receiver reduced to the acknowledgement
// protocol, version 2: it reads lines, numbers the data lines after the
// hello, and answers each read with the replies decide gives for its
// lines, then the cumulative ack. It records the hello and every data line.
type v2Peer struct {
	ln     net.Listener
	decide func(seq uint64, line []byte) []byte // replies before the ack; nil: none
	wg     sync.WaitGroup

	mu    sync.Mutex
	hello []string
	data  [][]byte
	lines atomic.Int64
}

func newV2Peer(t *testing.T, decide func(seq uint64, line []byte) []byte) *v2Peer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &v2Peer{ln: ln, decide: decide}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(c)
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); p.wg.Wait() })
	return p
}

func (p *v2Peer) addr() string { return p.ln.Addr().String() }

func (p *v2Peer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 4<<20)
	var seq uint64
	var out []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		switch cfjs1.ParseControl(line) {
		case cfjs1.Hello:
			p.mu.Lock()
			p.hello = append(p.hello, string(line))
			p.mu.Unlock()
			seq = 0
			out = cfjs1.AppendAck(out, 0)
		case cfjs1.Ping:
			out = cfjs1.AppendAck(out, seq)
		default:
			seq++
			p.lines.Add(1)
			p.mu.Lock()
			p.data = append(p.data, bytes.Clone(line))
			p.mu.Unlock()
			if p.decide != nil {
				out = append(out, p.decide(seq, line)...)
			}
		}
		if br.Buffered() > 0 {
			continue // the ack follows the whole read, as the receiver's does
		}
		if seq > 0 {
			out = cfjs1.AppendAck(out, seq)
		}
		if _, err := c.Write(out); err != nil {
			return
		}
		out = out[:0]
	}
}

func (p *v2Peer) received() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.data...)
}

// rejectEvery rejects every k-th data line for reason.
func rejectEvery(k uint64, reason string) func(uint64, []byte) []byte {
	return func(seq uint64, _ []byte) []byte {
		if seq%k == 0 {
			return cfjs1.AppendReject(nil, seq, reason)
		}
		return nil
	}
}

// patient gives cfg an ack timeout that a loaded test machine does not
// run into: the tests that count lines exactly must not see a batch sent
// again because an ack was late.
func patient(cfg *Config) *Config {
	cfg.Ack.Timeout = 5 * time.Second
	return cfg
}

func startWithTelemetry(t *testing.T, cfg *Config) (*cfjs1Exporter, *componenttest.Telemetry) {
	t.Helper()
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tt.NewTelemetrySettings()
	require.NoError(t, cfg.Validate())
	e, err := newExporter(set, cfg)
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })
	return e, tt
}

func TestHelloAsksForVersion2(t *testing.T) {
	p := newV2Peer(t, nil)
	startExporter(t, testConfig(EndpointConfig{Name: "log-a", Endpoint: p.addr()}))
	p.mu.Lock()
	defer p.mu.Unlock()
	require.Len(t, p.hello, 1)
	assert.Equal(t, 2, cfjs1.HelloVersion([]byte(p.hello[0])))
}

// Lines log-a rejects are settled there: counted as rejected with their
// reason, not as acknowledged, not sent to it again and not carried to
// log-b as dead-letter copies (log-b would refuse them as well).
func TestRejectedLinesAreSettledNotResentNorDeadLettered(t *testing.T) {
	const n = 400
	a := newV2Peer(t, rejectEvery(4, "invalid_json"))
	b := newV2Peer(t, nil)
	e, tt := startWithTelemetry(t, patient(testConfig(EndpointConfig{Name: "log-a", Endpoint: a.addr()}, EndpointConfig{Name: "log-b", Endpoint: b.addr()})))
	for range 4 {
		require.NoError(t, e.pushLogs(context.Background(), makeLogs(n/4, "app")))
	}
	assert.EqualValues(t, n, a.lines.Load(), "no line is sent to log-a again")
	assert.EqualValues(t, n, b.lines.Load(), "log-b gets its own lines and no copies")
	for _, l := range b.received() {
		assert.NotContains(t, string(l), "dead_letter_for")
	}
	epA, epB := attribute.String("endpoint", "log-a"), attribute.String("endpoint", "log-b")
	assert.EqualValues(t, n/4, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_rejected", epA, attribute.String("reason", "invalid_json")))
	assert.EqualValues(t, n-n/4, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_acked", epA))
	assert.EqualValues(t, n, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_acked", epB))
	assert.EqualValues(t, -1, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_dead_lettered", epA, attribute.String("via", "log-b")))
	assert.True(t, e.endpoints[0].isUp(), "a reject is not a failure of the endpoint")
}

func TestRejectedInFailoverModeNotSentToNext(t *testing.T) {
	a := newV2Peer(t, rejectEvery(1, "too_many_members"))
	b := newV2Peer(t, nil)
	cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: a.addr()}, EndpointConfig{Name: "log-b", Endpoint: b.addr()})
	cfg.Mode = ModeFailover
	e, tt := startWithTelemetry(t, patient(cfg))
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(10, "app")))
	assert.EqualValues(t, 0, b.lines.Load())
	assert.EqualValues(t, 10, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_rejected", attribute.String("endpoint", "log-a"), attribute.String("reason", "too_many_members")))
	assert.EqualValues(t, 0, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_acked", attribute.String("endpoint", "log-a")))
}

// A receiver is a peer, not trusted: replies that would make the counts
// lie end the connection (the endpoint goes down, and the batch is not
// taken as delivered).
func TestRejectProtocolViolationsEndTheConnection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decide func(uint64, []byte) []byte
		// settled: the batch's own ack came before the violation, so the
		// batch is delivered; only the connection ends.
		settled bool
	}{
		{name: "reject beyond the lines written", decide: func(seq uint64, _ []byte) []byte {
			return cfjs1.AppendReject(nil, seq+1000, "invalid_json")
		}},
		{name: "reject repeated", decide: func(seq uint64, _ []byte) []byte {
			r := cfjs1.AppendReject(nil, seq, "invalid_json")
			return append(r, r...)
		}},
		{name: "reject after its ack", settled: true, decide: func(seq uint64, _ []byte) []byte {
			return append(cfjs1.AppendAck(nil, seq), cfjs1.AppendReject(nil, seq, "invalid_json")...)
		}},
		{name: "reason outside the alphabet", decide: func(seq uint64, _ []byte) []byte {
			return fmt.Appendf(nil, `{"reject":%d,"reason":"Bad Reason"}`+"\n", seq)
		}},
		{name: "reason too long", decide: func(seq uint64, _ []byte) []byte {
			return fmt.Appendf(nil, `{"reject":%d,"reason":"%s"}`+"\n", seq, strings.Repeat("a", cfjs1.MaxReasonLen+1))
		}},
		{name: "ack beyond the lines written", decide: func(seq uint64, _ []byte) []byte {
			return cfjs1.AppendAck(nil, seq+1000)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newV2Peer(t, tc.decide)
			cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: p.addr()})
			e, tt := startWithTelemetry(t, patient(cfg))
			require.True(t, e.endpoints[0].isUp())
			err := e.pushLogs(context.Background(), makeLogs(1, "app"))
			// The endpoint is taken down (the transition is counted just
			// after it is taken out of use: wait for the count).
			require.Eventually(t, func() bool {
				return sumFor(t, tt, "otelcol_logx_cfjs1_exporter_transitions", attribute.String("endpoint", "log-a"), attribute.String("reason", "protocol_error")) == 1
			}, 5*time.Second, 5*time.Millisecond)
			assert.EqualValues(t, -1, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_rejected", attribute.String("endpoint", "log-a"), attribute.String("reason", "invalid_json")))
			if tc.settled {
				return
			}
			require.Error(t, err)
			assert.EqualValues(t, -1, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_acked", attribute.String("endpoint", "log-a")))
		})
	}
}

// A receiver inventing a reason per line neither grows the metric series
// without bound nor loses a line from the count.
func TestRejectReasonsBounded(t *testing.T) {
	const n = 500
	p := newV2Peer(t, func(seq uint64, _ []byte) []byte {
		return cfjs1.AppendReject(nil, seq, fmt.Sprintf("r%d", seq))
	})
	e, tt := startWithTelemetry(t, patient(testConfig(EndpointConfig{Name: "log-a", Endpoint: p.addr()})))
	for range 10 {
		require.NoError(t, e.pushLogs(context.Background(), makeLogs(n/10, "app")))
	}
	m, err := tt.GetMetric("otelcol_logx_cfjs1_exporter_rejected")
	require.NoError(t, err)
	points := m.Data.(metricdata.Sum[int64]).DataPoints
	assert.LessOrEqual(t, len(points), maxReasons+1)
	var total int64
	for _, dp := range points {
		total += dp.Value
	}
	assert.EqualValues(t, n, total)
}

// lineLen is the length, newline excluded, of the line the exporter
// writes for the only record of ld.
func lineLen(e *cfjs1Exporter, ld plog.Logs) int {
	saved := e.lineLimit
	e.lineLimit = 1 << 30
	b, _, _ := e.encode(nil, ld)
	e.lineLimit = saved
	return len(b) - 1
}

// withBodyLen returns one record whose line is exactly size bytes.
func withBodyLen(t *testing.T, e *cfjs1Exporter, size int) plog.Logs {
	ld := makeLogs(1, "app")
	rec := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	rec.Body().SetStr("x")
	base := lineLen(e, ld) - 1
	rec.Body().SetStr(strings.Repeat("x", size-base))
	require.Equal(t, size, lineLen(e, ld))
	return ld
}

func TestLineOverMaxLineSizeDroppedNotSent(t *testing.T) {
	p := newV2Peer(t, nil)
	cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: p.addr()})
	cfg.MaxLineSize = 4096
	e, tt := startWithTelemetry(t, patient(cfg))

	require.NoError(t, e.pushLogs(context.Background(), withBodyLen(t, e, 4096)))
	require.NoError(t, e.pushLogs(context.Background(), withBodyLen(t, e, 4097)))
	ld := makeLogs(3, "app")
	withBodyLen(t, e, 10_000).ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).
		CopyTo(ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty())
	require.NoError(t, e.pushLogs(context.Background(), ld))

	got := p.received()
	require.Len(t, got, 4, "the 4096-byte line and the three ordinary ones")
	assert.Len(t, got[0], 4096)
	for _, l := range got {
		assert.LessOrEqual(t, len(l), 4096)
	}
	assert.EqualValues(t, 2, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_dropped", attribute.String("reason", "line_too_long")))
	assert.EqualValues(t, 4, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_acked", attribute.String("endpoint", "log-a")))
	assert.EqualValues(t, 4, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_sent", attribute.String("endpoint", "log-a")))

	// A batch of nothing but over-long records sends nothing, and succeeds:
	// the records are settled as dropped.
	require.NoError(t, e.pushLogs(context.Background(), withBodyLen(t, e, 5000)))
	assert.EqualValues(t, 3, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_dropped", attribute.String("reason", "line_too_long")))
	assert.Len(t, p.received(), 4)
}

// In mode all a line may travel as a dead-letter copy, which is longer by
// its mark: the limit leaves room for it, so a copy is never too long for
// the side that carries it.
func TestMaxLineSizeLeavesRoomForDeadLetterMark(t *testing.T) {
	a, b := newV2Peer(t, nil), newV2Peer(t, nil)
	cfg := testConfig(EndpointConfig{Name: "log-a", Endpoint: a.addr()}, EndpointConfig{Name: "log-b", Endpoint: b.addr()})
	cfg.MaxLineSize = 4096
	e, tt := startWithTelemetry(t, patient(cfg))
	room := len(`,"dead_letter_for":"log-a"`)
	require.Equal(t, room, cfg.deadLetterRoom())

	require.NoError(t, e.pushLogs(context.Background(), withBodyLen(t, e, 4096-room+1)))
	assert.EqualValues(t, 1, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_dropped", attribute.String("reason", "line_too_long")))
	assert.EqualValues(t, 0, a.lines.Load())

	// log-a goes away; the longest line allowed reaches log-b as a copy of
	// exactly max_line_size bytes.
	_ = a.ln.Close()
	e.endpoints[0].current().close(errClosed)
	require.Eventually(t, func() bool { return !e.endpoints[0].isUp() }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, e.pushLogs(context.Background(), withBodyLen(t, e, 4096-room)))
	got := b.received()
	require.Len(t, got, 2, "log-b's own line and the copy for log-a")
	assert.Len(t, got[0], 4096-room)
	assert.Len(t, got[1], 4096)
	assert.Contains(t, string(got[1]), `"dead_letter_for":"log-a"`)
}

// A version 1 receiver looks only at the hello's control word, answers it,
// and acknowledges every line, the ones it drops included: to this
// exporter they are all delivered, as before version 2 (it cannot know
// better), and nothing breaks.
func TestVersion1ReceiverAcksOnly(t *testing.T) {
	v1 := newLineSink(t, false) // acks everything, never rejects
	e, tt := startWithTelemetry(t, patient(testConfig(EndpointConfig{Name: "log-a", Endpoint: v1.addr()})))
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(10, "app")))
	assert.EqualValues(t, 10, sumFor(t, tt, "otelcol_logx_cfjs1_exporter_acked", attribute.String("endpoint", "log-a")))
	assert.EqualValues(t, -1, counterTotal(t, tt, "otelcol_logx_cfjs1_exporter_rejected"))
}
