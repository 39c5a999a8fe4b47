package testutil

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
)

// CallSink counts the records and the ConsumeLogs calls it is given, and
// spends PerCall of CPU in each call: the per-request work of the
// pipeline behind a receiver (processors, the exporter's queue and
// batcher), so that a rate benchmark shows what the number of requests
// costs.
type CallSink struct {
	PerCall time.Duration
	records atomic.Int64
	calls   atomic.Int64
}

// Capabilities implements consumer.Logs.
func (*CallSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// ConsumeLogs counts and spins for PerCall.
func (s *CallSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	if s.PerCall > 0 {
		for from := ThreadCPU(); ThreadCPU()-from < s.PerCall; {
		}
	}
	s.calls.Add(1)
	s.records.Add(int64(ld.LogRecordCount()))
	return nil
}

// Records is the records consumed so far.
func (s *CallSink) Records() int64 { return s.records.Load() }

// Calls is the ConsumeLogs calls so far.
func (s *CallSink) Calls() int64 { return s.calls.Load() }

// BenchRate writes one line per write at rate lines/s for d (WriteAtRate)
// into a receiver feeding sink, waits (at most 10 s) until the sink has
// every line, and reports the process's CPU per line beside the writer's
// own (cpu-µs/line: receiver, stage and sink), records per ConsumeLogs
// call, and the longest single write (max-block-ms).
func BenchRate(b *testing.B, rate int, d time.Duration, sink *CallSink, write func([]byte) error) {
	b.Helper()
	records0, calls0 := sink.Records(), sink.Calls()
	cpu0 := ProcessCPU()
	res, err := WriteAtRate(rate, d, write)
	if err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sink.Records()-records0 < int64(res.Lines) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cpu := ProcessCPU() - cpu0 - res.WriterCPU
	got := sink.Records() - records0
	if got != int64(res.Lines) {
		b.Fatalf("sink got %d lines, want %d", got, res.Lines)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(res.Lines), "cpu-µs/line")
	b.ReportMetric(float64(got)/float64(max(1, sink.Calls()-calls0)), "records/call")
	b.ReportMetric(float64(res.MaxBlock.Microseconds())/1000, "max-block-ms")
	b.ReportMetric(float64(res.Lines)/d.Seconds(), "lines/s")
}
