package ratelimitprocessor_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-logx/otelcol-logx/components"
	"github.com/otelcol-logx/otelcol-logx/e2e/collectortest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/processor/ratelimitprocessor"
	"github.com/otelcol-logx/otelcol-logx/processor/ratelimitprocessor/internal/metadata"
)

const e2eRate, e2eBurst = 100, 100

func e2eConfig(addr string) string {
	return fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
processors:
  ratelimit:
    rate: %d
    burst: %d
exporters:
  sink/out: {}
service:
  pipelines:
    logs:
      receivers: [otlp]
      processors: [ratelimit]
      exporters: [sink/out]
`, addr, e2eRate, e2eBurst)
}

type sender struct {
	t      *testing.T
	client plogotlp.GRPCClient
}

func newSender(t *testing.T, addr string) *sender {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &sender{t: t, client: plogotlp.NewGRPCClient(conn)}
}

// send exports one request: n records of the noisy service and one record
// of each quiet service named in quiet.
func (s *sender) send(n int, quiet []string) {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for range n {
		lr := lrs.AppendEmpty()
		lr.Attributes().PutStr(logattr.Service, "noisy")
		lr.Body().SetStr("noisy line")
	}
	for _, q := range quiet {
		lr := lrs.AppendEmpty()
		lr.Attributes().PutStr(logattr.Service, q)
		lr.Body().SetStr("quiet line")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.client.Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
	require.NoError(s.t, err)
}

// delivered counts the sink's records per service, leaving out the
// processor's own summary records.
func delivered(sink *collectortest.Sink) map[string]int {
	out := map[string]int{}
	for _, ld := range sink.AllLogs() {
		testutil.EachLogRecord(ld, func(_ plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) {
			if sl.Scope().Name() == metadata.ScopeName {
				return
			}
			v, _ := lr.Attributes().Get(logattr.Service)
			out[v.Str()]++
		})
	}
	return out
}

func quietNames() []string {
	var q []string
	for i := range 9 {
		q = append(q, fmt.Sprintf("quiet-%d", i))
	}
	return q
}

// The processor runs inside a whole collector on a fake clock, so the
// expected count is exact: the noisy service offers 100× its rate in a
// request every 10 ms of fake time, and gets burst + rate × elapsed.
func TestEndToEndNoisyAndQuietFakeClock(t *testing.T) {
	var fakeNs atomic.Int64
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return start.Add(time.Duration(fakeNs.Load())) }
	factories := func() (otelcol.Factories, error) {
		f, err := components.Factories()
		if err != nil {
			return f, err
		}
		f.Processors[metadata.Type] = ratelimitprocessor.NewFactoryWithClock(clock)
		return f, nil
	}
	addr := testutil.FreeTCPAddr(t)
	sink := &collectortest.Sink{}
	collectortest.Start(t, e2eConfig(addr), collectortest.WithFactories(factories),
		collectortest.WithSinks(map[string]*collectortest.Sink{"out": sink}))
	s := newSender(t, addr)

	const step = 10 * time.Millisecond
	const steps = 1000                                 // 10 s of fake time
	noisyPerStep := e2eRate * 100 * step / time.Second // 100× the rate
	quiet := quietNames()
	quietSent := 0
	for i := range steps {
		if i > 0 {
			fakeNs.Add(int64(step))
		}
		var q []string
		if i%2 == 0 { // each quiet service: 50 records/s, half its limit
			q = quiet
			quietSent++
		}
		s.send(int(noisyPerStep), q)
	}
	elapsed := time.Duration(fakeNs.Load())
	got := delivered(sink)
	for _, name := range quiet {
		assert.Equal(t, quietSent, got[name], "every record of %s arrives", name)
	}
	want := e2eBurst + e2eRate*elapsed.Seconds()
	t.Logf("noisy: offered %d, delivered %d, expected burst + rate × %v = %.0f", steps*int(noisyPerStep), got["noisy"], elapsed, want)
	assert.InDelta(t, want, float64(got["noisy"]), want*0.01, "within 1%%")
	assert.Equal(t, int(want), got["noisy"], "and, on a fake clock, exact")
}

// The same through the registered factory on the real clock: the elapsed
// time is measured around the run, and the noisy service's count must be
// within 1% of burst + rate × elapsed.
func TestEndToEndNoisyAndQuietRealClock(t *testing.T) {
	addr := testutil.FreeTCPAddr(t)
	sink := &collectortest.Sink{}
	collectortest.Start(t, e2eConfig(addr), collectortest.WithSinks(map[string]*collectortest.Sink{"out": sink}))
	s := newSender(t, addr)

	// Connect first: the first export also sets up the connection, which
	// must not count as time in which the noisy service could earn tokens.
	s.send(0, []string{"warm-up"})

	const run = 3 * time.Second
	const perRequest = 100 // every 10 ms: 10000/s, 100× the rate
	quiet := quietNames()
	quietSent := map[string]int{}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	offered := 0
	// The processor reads its clock for a request somewhere between the
	// start and the end of that request's Export call. So the time in which
	// the noisy service earned tokens lies between inner (end of the first
	// call to start of the last) and outer (start of the first to end of the
	// last); the best estimate is from the middle of the first call to the
	// middle of the last.
	var firstStart, firstEnd, lastStart, lastEnd time.Time
	for i := 0; i == 0 || lastEnd.Sub(firstStart) < run; i++ {
		q := []string{quiet[i%len(quiet)]}
		quietSent[q[0]]++
		start := time.Now()
		s.send(perRequest, q)
		end := time.Now()
		if i == 0 {
			firstStart, firstEnd = start, end
		}
		lastStart, lastEnd = start, end
		offered += perRequest
		<-tick.C // pacing, not synchronisation: the send above has returned
	}
	mid := func(a, b time.Time) time.Time { return a.Add(b.Sub(a) / 2) }
	elapsed := mid(lastStart, lastEnd).Sub(mid(firstStart, firstEnd))
	inner, outer := lastStart.Sub(firstEnd), lastEnd.Sub(firstStart)
	got := delivered(sink)
	for _, name := range quiet {
		assert.Equal(t, quietSent[name], got[name], "every record of %s arrives", name)
	}
	offeredRate := float64(offered) / outer.Seconds()
	require.Greater(t, offeredRate, 50.0*e2eRate, "the noisy service must offer far more than its limit for the bound to be tight")
	want := e2eBurst + e2eRate*elapsed.Seconds()
	t.Logf("noisy: offered %d (%.0f/s, %.0f× the rate) in %v (inner %v, outer %v), delivered %d, expected %.1f",
		offered, offeredRate, offeredRate/e2eRate, elapsed, inner, outer, got["noisy"], want)
	assert.GreaterOrEqual(t, float64(got["noisy"]), math.Floor(e2eBurst+e2eRate*inner.Seconds())-1, "no fewer than the inner window earned")
	assert.LessOrEqual(t, float64(got["noisy"]), e2eBurst+e2eRate*outer.Seconds()+1, "no more than the outer window earned")
	assert.LessOrEqual(t, math.Abs(float64(got["noisy"])-want), want*0.01, "within 1%% of burst + rate × elapsed")
}

// The example config must stay valid for the distribution's components.
func TestExampleConfigValidates(t *testing.T) {
	path, err := filepath.Abs(filepath.Join("..", "..", "configs", "example-ratelimit.yaml"))
	require.NoError(t, err)
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		BuildInfo: component.NewDefaultBuildInfo(),
		Factories: components.Factories,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              []string{"file:" + path},
			ProviderFactories: components.Providers(),
			DefaultScheme:     "env",
		}},
	})
	require.NoError(t, err)
	require.NoError(t, col.DryRun(context.Background()))
}
