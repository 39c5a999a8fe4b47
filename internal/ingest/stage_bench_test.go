package ingest

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
)

// fsyncConsumer writes each request's bodies to a file and syncs it, as
// a persistent queue on file_storage with fsync does once per request.
type fsyncConsumer struct {
	f     *os.File
	calls atomic.Int64
	buf   []byte
}

func (*fsyncConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *fsyncConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.calls.Add(1)
	c.buf = c.buf[:0]
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				c.buf = append(c.buf, lrs.At(k).Body().Str()...)
				c.buf = append(c.buf, '\n')
			}
		}
	}
	if _, err := c.f.Write(c.buf); err != nil {
		return err
	}
	return c.f.Sync()
}

// BenchmarkStageFsyncConsumer: one-line batches (as a reader at a
// realistic rate hands over) put into a Stage whose consumer syncs a file
// per request. ns/op is per line, including the consumer's syncs;
// lines/call says how many lines each sync carried.
func BenchmarkStageFsyncConsumer(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "queue"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	next := &fsyncConsumer{f: f}
	s := NewStage(BufferConfig{MaxBytes: 2 << 20}, StageSettings{Next: next})
	s.Start()
	line := "<30>Nov 22 04:00:00 nginx[4242]: GET /api/v1/items?id=12345 HTTP/1.1 200"
	var done atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		err := s.Put(context.Background(), Batch{
			Size:    int64(len(line)) + testRecordOverhead,
			Records: 1,
			Build: func() plog.Logs {
				ld := plog.NewLogs()
				ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr(line)
				return ld
			},
			Done: func(error) { done.Add(1) },
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if done.Load() != int64(b.N) {
		b.Fatalf("%d of %d batches done", done.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/float64(next.calls.Load()), "lines/call")
}
