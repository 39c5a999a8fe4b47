package testutil

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestWaitForReturnsOnceTrue(t *testing.T) {
	var n atomic.Int32
	start := time.Now()
	at := WaitFor(t, 10*time.Second, "the third poll", func() bool { return n.Add(1) == 3 })
	assert.EqualValues(t, 3, n.Load())
	assert.False(t, at.Before(start))
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as testing's does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestWaitForFailsWithState(t *testing.T) {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		WaitFor(r, 20*time.Millisecond, "never", func() bool { return false }, func() string { return "queue=7" })
	}()
	<-done
	assert.Equal(t, "timed out after 20ms waiting for never: queue=7", r.msg)
}
