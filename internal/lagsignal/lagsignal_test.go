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
