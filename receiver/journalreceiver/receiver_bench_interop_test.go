//go:build interop

package journalreceiver

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
)

// countingConsumer counts records and signals when it has seen want.
type countingConsumer struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (c *countingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *countingConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	if c.n.Add(int64(ld.LogRecordCount())) == c.want {
		close(c.done)
	}
	return nil
}

// BenchmarkReceiverEndToEnd reads a real 20000-entry journal file from its
// beginning through journalctl, the decoder and the converter into a
// consumer; one op is the whole journal. entries/s is the figure to quote.
func BenchmarkReceiverEndToEnd(b *testing.B) {
	const entries = 20_000
	dir := b.TempDir()
	j := newTestJournal(b, dir, "system.journal")
	batch := make([][]byte, entries)
	for i := range batch {
		batch[i] = j.entry([]byte(fmt.Sprintf("GET /api/v1/items?page=%d HTTP/1.1 200 5123 curl/8.5.0 request served in 12ms", i)),
			field{"PRIORITY", []byte("6")}, field{"_SYSTEMD_UNIT", []byte("nginx.service")},
			field{"SYSLOG_IDENTIFIER", []byte("nginx")}, field{"_PID", []byte("1234")},
			field{"_COMM", []byte("nginx")}, field{"_TRANSPORT", []byte("stdout")})
	}
	j.append(batch...)

	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		cfg := testConfig(dir, b.TempDir())
		cfg.Batch.MaxEntries = 1000
		c := &countingConsumer{want: entries, done: make(chan struct{})}
		rcv, err := newJournalReceiver(receiverSettings(), cfg, c)
		if err != nil {
			b.Fatal(err)
		}
		if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
			b.Fatal(err)
		}
		select {
		case <-c.done:
		case <-time.After(60 * time.Second):
			b.Fatal("journal not read within 60s")
		}
		if err := rcv.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(entries)*float64(b.N)/time.Since(start).Seconds(), "entries/s")
}
