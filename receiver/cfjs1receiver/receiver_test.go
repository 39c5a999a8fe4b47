package cfjs1receiver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-logx/otelcol-logx/internal/cfjs1"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/receiver/cfjs1receiver/internal/metadata"
)

func startReceiver(t testing.TB, next consumer.Logs, adjust func(*Config)) *cfjs1Receiver {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = "127.0.0.1:0"
	if adjust != nil {
		adjust(cfg)
	}
	require.NoError(t, cfg.Validate())
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, next)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r
}

func dial(t *testing.T, r *cfjs1Receiver) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", r.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func records(sink *consumertest.LogsSink) []plog.LogRecord {
	var out []plog.LogRecord
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, r := range sl.LogRecords().All() {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

const lineA = `{"format":"nginx","nginx":{"message":"one","attributes":{"k":"v"},"resource":{"host.name":"h1"}}}`
const lineB = `{"format":"nginx","nginx":{"message":"two"},"dead_letter_for":"log-b"}`

func TestPlainSenderGetsNothingBack(t *testing.T) {
	sink := &consumertest.LogsSink{}
	r := startReceiver(t, sink, nil)
	c := dial(t, r)
	_, err := io.WriteString(c, lineA+"\n"+lineB+"\r\n")
	require.NoError(t, err)
	require.NoError(t, c.(*net.TCPConn).CloseWrite())
	back, err := io.ReadAll(c)
	require.NoError(t, err)
	assert.Empty(t, back, "a sender that did not say hello must not get acks")

	require.Eventually(t, func() bool { return sink.LogRecordCount() == 2 }, 5*time.Second, 5*time.Millisecond)
	recs := records(sink)
	assert.Equal(t, "one", recs[0].Body().Str())
	assert.Equal(t, map[string]any{"k": "v", logattr.CFJS1Format: "nginx"}, recs[0].Attributes().AsRaw())
	assert.Equal(t, map[string]any{logattr.CFJS1Format: "nginx", logattr.CFJS1DeadLetterFor: "log-b"}, recs[1].Attributes().AsRaw())
	host, _ := sink.AllLogs()[0].ResourceLogs().At(0).Resource().Attributes().Get("host.name")
	assert.Equal(t, "h1", host.Str())
}

// countingSink records how many records it had when each call returned.
type countingSink struct {
	consumertest.LogsSink
	refuse bool
}

func (s *countingSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if s.refuse {
		return errors.New("downstream is down")
	}
	return s.LogsSink.ConsumeLogs(ctx, ld)
}

func readAck(t *testing.T, br *bufio.Reader, c net.Conn) uint64 {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	line, err := br.ReadBytes('\n')
	require.NoError(t, err)
	n, err := cfjs1.ParseAck(line)
	require.NoError(t, err)
	return n
}

func TestAcksFollowPipelineAcceptance(t *testing.T) {
	sink := &countingSink{}
	r := startReceiver(t, sink, func(c *Config) { c.MaxLineSize = 256 })
	c := dial(t, r)
	br := bufio.NewReader(c)
	_, err := io.WriteString(c, cfjs1.HelloLineV1)
	require.NoError(t, err)
	assert.EqualValues(t, 0, readAck(t, br, c))

	// Two good lines, one undecodable, one too long: all four are
	// acknowledged to a version 1 sender (it knows no rejects; the bad
	// lines will never be better), two are delivered.
	_, err = io.WriteString(c, lineA+"\n"+"garbage\n"+strings.Repeat("x", 300)+"\n"+lineB+"\n")
	require.NoError(t, err)
	var acked uint64
	for acked < 4 {
		acked = readAck(t, br, c)
		// Whatever is acknowledged has reached the pipeline.
		require.GreaterOrEqual(t, sink.LogRecordCount(), min(int(acked), 1))
	}
	assert.EqualValues(t, 4, acked)
	assert.Equal(t, 2, sink.LogRecordCount())

	_, err = io.WriteString(c, cfjs1.PingLine)
	require.NoError(t, err)
	assert.EqualValues(t, 4, readAck(t, br, c))
}

func TestRefusedBatchIsNotAcked(t *testing.T) {
	sink := &countingSink{refuse: true}
	r := startReceiver(t, sink, nil)
	c := dial(t, r)
	br := bufio.NewReader(c)
	_, err := io.WriteString(c, cfjs1.HelloLine)
	require.NoError(t, err)
	assert.EqualValues(t, 0, readAck(t, br, c))
	_, err = io.WriteString(c, lineA+"\n")
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	rest, err := io.ReadAll(br)
	require.NoError(t, err, "the receiver closes the connection")
	assert.Empty(t, rest, "no ack for refused records")
}

func TestMaxConnections(t *testing.T) {
	sink := &consumertest.LogsSink{}
	r := startReceiver(t, sink, func(c *Config) { c.MaxConnections = 1 })
	first := dial(t, r)
	_, err := io.WriteString(first, cfjs1.HelloLine)
	require.NoError(t, err)
	assert.EqualValues(t, 0, readAck(t, bufio.NewReader(first), first)) // first is being served

	second := dial(t, r)
	require.NoError(t, second.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = second.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "the connection over the limit is closed at once")
}

func TestIdleConnectionIsClosed(t *testing.T) {
	r := startReceiver(t, &consumertest.LogsSink{}, func(c *Config) { c.IdleTimeout = 100 * time.Millisecond })
	c := dial(t, r)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err := c.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF)
}

func TestWrongWrapperIsDropped(t *testing.T) {
	sink := &consumertest.LogsSink{}
	r := startReceiver(t, sink, func(c *Config) { c.Wrappers = map[string]string{"nginx": "nginx_log"} })
	c := dial(t, r)
	_, err := io.WriteString(c, lineA+"\n"+`{"format":"nginx","nginx_log":{"message":"ok"}}`+"\n")
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, "ok", records(sink)[0].Body().Str())
}

func TestLinesOfOneHostShareAResource(t *testing.T) {
	sink := &consumertest.LogsSink{}
	r := startReceiver(t, sink, nil)
	c := dial(t, r)
	other := `{"format":"nginx","nginx":{"message":"other host","resource":{"host.name":"h2"}}}`
	_, err := io.WriteString(c, lineA+"\n"+lineA+"\n"+"bad line\n"+lineA+"\n"+other+"\n")
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 4 }, 5*time.Second, 5*time.Millisecond)
	perHost := map[string]int{}
	for _, ld := range sink.AllLogs() {
		prev := ""
		for _, rl := range ld.ResourceLogs().All() {
			h, _ := rl.Resource().Attributes().Get("host.name")
			assert.NotEqual(t, prev, h.Str(), "consecutive lines of one host in one batch share a resource")
			prev = h.Str()
			perHost[h.Str()] += rl.ScopeLogs().At(0).LogRecords().Len()
		}
	}
	assert.Equal(t, map[string]int{"h1": 3, "h2": 1}, perHost)
}
