package unixsocketreceiver

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

// BenchmarkRate writes one line per write(2) or datagram at fixed rates,
// as syslog(3), logger and nginx do, for 2 s each, and reports the CPU
// the process spent per line beside the writer's (cpu-µs/line), with a
// sink that costs nothing per call and one that costs 20 µs per call (the
// pipeline's per-request work). Run once: -bench BenchmarkRate -benchtime 1x.
func BenchmarkRate(b *testing.B) {
	for _, tr := range []Transport{Stream, Datagram} {
		for _, rate := range []int{10_000, 50_000} {
			for _, perCall := range []time.Duration{0, 20 * time.Microsecond} {
				name := fmt.Sprintf("%s/%dk/percall=%s", tr, rate/1000, perCall)
				b.Run(name, func(b *testing.B) { benchRate(b, tr, rate, perCall) })
			}
		}
	}
}

func benchRate(b *testing.B, tr Transport, rate int, perCall time.Duration) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = shortDir(b) + "/rate.sock"
	cfg.Transport = tr
	cfg.Peer = PeerConfig{Credentials: true, SystemdUnit: true, UntrustedService: UntrustedUID}
	sink := &testutil.CallSink{PerCall: perCall}
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(b, err)
	require.NoError(b, r.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(b, r.Shutdown(context.Background())) }()
	network := "unix"
	if tr == Datagram {
		network = "unixgram"
	}
	c, err := net.Dial(network, cfg.Path)
	require.NoError(b, err)
	defer c.Close()
	for range b.N {
		testutil.BenchRate(b, rate, 2*time.Second, sink, func(line []byte) error {
			_, err := c.Write(line)
			return err
		})
	}
}
