package testutil

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// RefusingSink collects logs like consumertest.LogsSink and can be told to
// refuse them with a retryable error (a downstream that is down) or to
// take its time over each call (a slow pipeline): what the line readers'
// tests put behind a receiver.
type RefusingSink struct {
	consumertest.LogsSink
	refusing atomic.Bool
	delay    atomic.Int64 // nanoseconds each call costs
}

// SetRefusing makes every later call fail (true) or succeed (false).
func (s *RefusingSink) SetRefusing(v bool) { s.refusing.Store(v) }

// SetDelay makes every later call take d before it returns.
func (s *RefusingSink) SetDelay(d time.Duration) { s.delay.Store(int64(d)) }

// ConsumeLogs refuses, or takes its delay and keeps ld.
func (s *RefusingSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if s.refusing.Load() {
		return errors.New("sink refusing")
	}
	if d := s.delay.Load(); d > 0 {
		time.Sleep(time.Duration(d)) // the consumer's own cost, not synchronisation
	}
	return s.LogsSink.ConsumeLogs(ctx, ld)
}

// Capabilities: the sink does not mutate what it keeps.
func (*RefusingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// LogRecords flattens what a sink kept into its records, in order. One
// request may hold several batches, each under its own resource and scope.
func LogRecords(lds []plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	for _, ld := range lds {
		EachLogRecord(ld, func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			out = append(out, lr)
		})
	}
	return out
}

// EachLogRecord calls fn with each record of ld, in order, and the resource
// and scope it sits under: for the tests that read a record together with
// its resource's attributes or its scope's name.
func EachLogRecord(ld plog.Logs, fn func(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord)) {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				fn(rls.At(i), sls.At(j), lrs.At(k))
			}
		}
	}
}
