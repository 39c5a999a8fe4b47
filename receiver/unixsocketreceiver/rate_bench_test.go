package unixsocketreceiver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

// BenchmarkRate has a writer process write one line per write(2) or
// datagram at fixed rates, as syslog(3), logger and nginx do, for 2 s
// each, and reports the CPU this process (receiver, stage and sink) spent
// per line, with a sink that costs nothing per call and one that costs
// 20 µs per call (the pipeline's per-request work). Run once:
// -bench BenchmarkRate -benchtime 1x.
func BenchmarkRate(b *testing.B) {
	for _, tr := range []Transport{Stream, Datagram} {
		for _, rate := range []int{1_000, 10_000, 50_000, 100_000} {
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
	mode := childStreamRate
	if tr == Datagram {
		mode = childDatagramRate
	}
	for range b.N {
		calls0 := sink.Calls()
		cpu0 := testutil.ProcessCPU()
		child := startChild(b, childOptions{cgroupFD: -1}, mode, cfg.Path, fmt.Sprintf("%d,2000", rate))
		var lines int
		var maxBlock time.Duration
		_, err := fmt.Sscanf(child.line(b), "sent %d %d", &lines, &maxBlock)
		require.NoError(b, err)
		deadline := time.Now().Add(10 * time.Second)
		for sink.Records() < int64(lines) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		cpu := testutil.ProcessCPU() - cpu0
		require.Equal(b, int64(lines), sink.Records())
		b.ReportMetric(float64(cpu.Microseconds())/float64(lines), "cpu-µs/line")
		b.ReportMetric(float64(lines)/float64(sink.Calls()-calls0), "records/call")
		b.ReportMetric(float64(maxBlock.Microseconds())/1000, "max-block-ms")
		b.ReportMetric(float64(lines)/2, "lines/s")
		child.wait(b)
	}
}
