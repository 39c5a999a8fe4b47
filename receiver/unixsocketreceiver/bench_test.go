package unixsocketreceiver

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

type countingSink struct{ n atomic.Int64 }

func (*countingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (s *countingSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.n.Add(int64(ld.LogRecordCount()))
	return nil
}

// BenchmarkStreamEndToEnd writes b.N ~180-byte RFC 3164 lines on one unix
// stream connection and waits until the sink has them all: ns/op is per
// line, so lines/s = 1e9 / ns_per_op.
func BenchmarkStreamEndToEnd(b *testing.B) {
	b.Run("peer_credentials", func(b *testing.B) { benchStream(b, true) })
	b.Run("no_peer", func(b *testing.B) { benchStream(b, false) })
}

func benchStream(b *testing.B, peer bool) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = shortDir(b) + "/bench.sock"
	cfg.Peer = PeerConfig{Credentials: peer, SystemdUnit: peer, UntrustedService: UntrustedUID}
	sink := &countingSink{}
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(b, err)
	require.NoError(b, r.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(b, r.Shutdown(context.Background())) }()

	line := fmt.Appendf(nil, "<30>Nov 22 04:00:00 nginx[4242]: 10.0.0.1 - - \"GET /api/v1/items?id=12345 HTTP/1.1\" 200 1532 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.012 uct=0.001 uht=0.011 urt=0.011 req=abcdef\n")
	chunk := make([]byte, 0, 64*1024)
	for len(chunk)+len(line) <= cap(chunk) {
		chunk = append(chunk, line...)
	}
	perChunk := len(chunk) / len(line)
	c, err := dialUnix(cfg.Path)
	require.NoError(b, err)
	defer c.Close()
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		// Flow control for the measurement only: keep the held amount under
		// half the buffer so nothing is dropped and the figure is the
		// sustained end-to-end rate.
		for r.stage.Held() > cfg.Buffer.MaxBytes/2 {
			time.Sleep(100 * time.Microsecond)
		}
		n := min(perChunk, b.N-sent)
		if _, err := c.Write(chunk[:n*len(line)]); err != nil {
			b.Fatal(err)
		}
		sent += n
	}
	deadline := time.Now().Add(time.Minute)
	for sink.n.Load() < int64(b.N) && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	b.StopTimer()
	if got := sink.n.Load(); got != int64(b.N) {
		b.Fatalf("sink got %d lines, want %d", got, b.N)
	}
}

func dialUnix(path string) (net.Conn, error) { return net.Dial("unix", path) }

// BenchmarkDatagramEndToEnd sends b.N ~180-byte RFC 3164 datagrams and
// waits until the sink has them all: ns/op is per datagram. With peer
// credentials every datagram's sender is identified (its credentials,
// and its unit through its pidfd or /proc).
func BenchmarkDatagramEndToEnd(b *testing.B) {
	b.Run("peer_credentials", func(b *testing.B) { benchDatagram(b, true) })
	b.Run("no_peer", func(b *testing.B) { benchDatagram(b, false) })
}

func benchDatagram(b *testing.B, peer bool) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = shortDir(b) + "/bench.sock"
	cfg.Transport = Datagram
	cfg.Peer = PeerConfig{Credentials: peer, SystemdUnit: peer, UntrustedService: UntrustedUID}
	sink := &countingSink{}
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(b, err)
	require.NoError(b, r.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(b, r.Shutdown(context.Background())) }()

	line := fmt.Appendf(nil, "<30>Nov 22 04:00:00 nginx[4242]: 10.0.0.1 - - \"GET /api/v1/items?id=12345 HTTP/1.1\" 200 1532 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.012 uct=0.001 uht=0.011 urt=0.011 req=abcdef")
	c, err := net.Dial("unixgram", cfg.Path)
	require.NoError(b, err)
	defer c.Close()
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A full socket queue blocks the sender: nothing is lost.
		if _, err := c.Write(line); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for sink.n.Load() < int64(b.N) && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	b.StopTimer()
	if got := sink.n.Load(); got != int64(b.N) {
		b.Fatalf("sink got %d lines, want %d", got, b.N)
	}
}
