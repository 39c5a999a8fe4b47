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
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					out = append(out, lrs.At(k))
				}
			}
		}
	}
	return out
}
