package unixsocketreceiver

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// refusingSink collects logs and can be told to refuse them (a downstream
// that is down), with a retryable error.
type refusingSink struct {
	consumertest.LogsSink
	refusing atomic.Bool
	// delay is what each call costs (a slow pipeline), in nanoseconds.
	delay atomic.Int64
}

func (s *refusingSink) SetRefusing(v bool) { s.refusing.Store(v) }

func (s *refusingSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if s.refusing.Load() {
		return errors.New("sink refusing")
	}
	if d := s.delay.Load(); d > 0 {
		time.Sleep(time.Duration(d)) // the consumer's own cost, not synchronisation
	}
	return s.LogsSink.ConsumeLogs(ctx, ld)
}

func (*refusingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
