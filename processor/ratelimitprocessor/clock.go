package ratelimitprocessor

import "time"

// Clock tells the processor the time. It is read once per batch (and by the
// background jobs), so tests can drive the buckets exactly with a fake.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
