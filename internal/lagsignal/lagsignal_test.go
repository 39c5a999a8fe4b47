package lagsignal

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRaiseReachesTheListener(t *testing.T) {
	Raise() // no listener: nothing happens, nothing waits
	signals, stop := Listen()
	Raise()
	Raise() // one pending is enough: this one does not wait either
	assert.Len(t, signals, 1)
	<-signals
	stop()
	Raise()
	assert.Empty(t, signals, "a stopped listener gets nothing")
}

func TestLaterListenerTakesOver(t *testing.T) {
	first, stopFirst := Listen()
	second, stopSecond := Listen()
	defer stopSecond()
	stopFirst() // must not silence the second
	Raise()
	assert.Empty(t, first)
	assert.Len(t, second, 1)
}

// TestRunSaysOncePerRun: Reads full reads in a row are said once (a burst
// of one or two is not lagging), and again only after a read that did not
// fill what it was given.
func TestRunSaysOncePerRun(t *testing.T) {
	signals, stop := Listen()
	defer stop()
	var r Run
	full := func(n int) {
		for range n {
			r.Read(true)
		}
	}
	full(Reads - 1)
	r.Read(false)
	full(Reads - 1)
	assert.Empty(t, signals, "bursts of fewer than Reads full reads")
	full(1)
	assert.Len(t, signals, 1, "the Reads-th full read in a row")
	<-signals
	full(10)
	assert.Empty(t, signals, "said once per run")
	r.Read(false)
	full(Reads)
	assert.Len(t, signals, 1, "a new run is said again")
}
