package ingest

import (
	"testing"

	"go.uber.org/goleak"
)

// The package starts goroutines (senders, timers, reloads): none may
// outlive the test that started it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
