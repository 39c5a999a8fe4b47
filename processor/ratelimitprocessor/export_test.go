package ratelimitprocessor

import (
	"time"

	"go.opentelemetry.io/collector/processor"
)

// NewFactoryWithClock is for the end-to-end tests in package
// ratelimitprocessor_test, which run a whole collector (whose component list
// imports this package, hence the external test package).
func NewFactoryWithClock(now func() time.Time) processor.Factory { return newFactory(funcClock(now)) }

type funcClock func() time.Time

func (f funcClock) Now() time.Time { return f() }
