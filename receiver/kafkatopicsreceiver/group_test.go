package kafkatopicsreceiver

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestGroupMembersShareAndTakeOver(t *testing.T) {
	// Three collectors in one group share six partitions. One stops
	// mid-run: its partitions move to the others, and every record
	// produced arrives; records delivered twice can only be ones the
	// stopped member had not committed (the moved partitions' tail).
	c := newCluster(t, 6)
	var s [3]seen
	var hs [3]*harness
	for i := range hs {
		hs[i] = startReceiver(t, testConfig(c, "g"), sink(&s[i], nil))
	}
	require.Eventually(t, func() bool {
		return hs[0].assigned() == 2 && hs[1].assigned() == 2 && hs[2].assigned() == 2
	}, 30*time.Second, 10*time.Millisecond, "every member got two partitions")
	produce(t, c, 0, 600, 60)

	const total = 6000
	produced := make(chan error, 1)
	go func() {
		for i := 600; i < total; i += 200 {
			if err := produceErr(c, i, 200, 60); err != nil {
				produced <- err
				return
			}
		}
		produced <- nil
	}()
	require.Eventually(t, func() bool { return s[0].count() > 900/3 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, hs[0].r.Shutdown(t.Context()))
	stoppedAt := s[0].count() // once Shutdown returned, nothing more comes
	require.NoError(t, <-produced)

	all := func() []seenRecord { return append(append(s[0].snapshot(), s[1].snapshot()...), s[2].snapshot()...) }
	require.Eventually(t, func() bool {
		distinct, _ := distinctSeqs(all())
		return len(distinct) == total
	}, 60*time.Second, 20*time.Millisecond, "every record produced arrives")
	assert.Equal(t, stoppedAt, s[0].count(), "the stopped member got nothing after it stopped")

	// The stopped member's partitions were taken over.
	parts := map[string]bool{}
	for _, r := range append(s[1].snapshot(), s[2].snapshot()...) {
		parts[r.partition] = true
	}
	assert.Len(t, parts, 6, "the remaining members read every partition")

	_, repeats := distinctSeqs(all())
	t.Logf("%d records, %d delivered twice (uncommitted tail of the moved partitions)", total, repeats)
	assert.LessOrEqual(t, repeats, 5000/3, "repeats stay within what one poll of the stopped member could hold")
}

func TestBrokerOutageAndRecovery(t *testing.T) {
	// Every fetch fails while the broker is "down"; the receiver counts
	// the errors, keeps trying, and reads everything once it is back.
	c := newCluster(t, 3)
	produce(t, c, 0, 300, 30)
	var s seen
	h := startReceiver(t, testConfig(c, "g"), sink(&s, nil))
	require.Eventually(t, func() bool { return s.count() >= 300 }, 30*time.Second, 10*time.Millisecond)

	var down atomic.Bool
	down.Store(true)
	c.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		if !down.Load() {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		return nil, errors.New("broker down"), true
	})
	produce(t, c, 300, 300, 30)
	require.Eventually(t, func() bool {
		return h.sum(t, "otelcol_logx_kafkatopics_receiver_broker_errors") > 0
	}, 30*time.Second, 10*time.Millisecond)
	down.Store(false)
	require.Eventually(t, func() bool {
		distinct, _ := distinctSeqs(s.snapshot())
		return len(distinct) == 600
	}, 60*time.Second, 10*time.Millisecond, "everything read once the broker is back")
}
