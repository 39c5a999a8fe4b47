package cfjs1receiver

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
)

type countingConsumer struct{ n atomic.Int64 }

func (c *countingConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.n.Add(int64(ld.LogRecordCount()))
	return nil
}
func (*countingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// BenchmarkReceiveLines: one connection, lines with 10 attributes, into a
// consumer that only counts: the receiver's read, frame, decode and batch.
// One op is a chunk of 1000 lines.
func BenchmarkReceiveLines(b *testing.B) {
	line := `{"format":"nginx","nginx":{"timestamp":"2026-11-22T04:05:06.789000001Z","severity_number":9,"message":"192.0.2.1 - - \"GET /index.html HTTP/1.1\" 200 5120 \"-\" \"curl/8.0\"","attributes":{"logx.service":"nginx.service","syslog.appname":"nginx","syslog.procid":"1234","syslog.facility":3,"dc":"ams01","unit.status":"active","peer.pid":1234,"sampled":true,"ratio":0.5,"i":7},"resource":{"host.name":"edge-17.example.net"}}}` + "\n"
	chunk := bytes.Repeat([]byte(line), 1000)
	cons := &countingConsumer{}
	r := startReceiver(b, cons, nil)
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	start := time.Now()
	sent := int64(0)
	for b.Loop() {
		if _, err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
		sent += 1000
	}
	for cons.n.Load() < sent {
		time.Sleep(time.Millisecond) // waiting for the receiver to drain, not synchronising a test
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(sent), "ns/line")
}
