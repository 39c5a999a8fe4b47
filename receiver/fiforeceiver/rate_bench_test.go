package fiforeceiver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/fiforeceiver/internal/metadata"
)

// BenchmarkRate writes one line per write(2) into the FIFO at fixed rates
// for 2 s each and reports the CPU the process spent per line beside the
// writer's (cpu-µs/line), with a sink that costs nothing per call and one
// that costs 20 µs per call (the pipeline's per-request work). Run once:
// -bench BenchmarkRate -benchtime 1x.
func BenchmarkRate(b *testing.B) {
	for _, rate := range []int{1_000, 10_000, 50_000, 100_000} {
		for _, perCall := range []time.Duration{0, 20 * time.Microsecond} {
			b.Run(fmt.Sprintf("%dk/percall=%s", rate/1000, perCall), func(b *testing.B) {
				sink := &testutil.CallSink{PerCall: perCall}
				cfg := createDefaultConfig().(*Config)
				cfg.Path = filepath.Join(b.TempDir(), "rate.fifo")
				r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, sink)
				require.NoError(b, err)
				require.NoError(b, r.Start(context.Background(), componenttest.NewNopHost()))
				defer func() { require.NoError(b, r.Shutdown(context.Background())) }()
				w, err := os.OpenFile(cfg.Path, os.O_WRONLY, 0)
				require.NoError(b, err)
				defer w.Close()
				for range b.N {
					testutil.BenchRate(b, rate, 2*time.Second, sink, func(line []byte) error {
						_, err := w.Write(line)
						return err
					})
				}
			})
		}
	}
}
