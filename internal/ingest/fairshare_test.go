package ingest

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// serviceBatch is n records of service, each counting recordSize against
// the bound, built lazily (as Lines' batches are).
func serviceBatch(service string, n int, recordSize int64) Batch {
	return Batch{
		Key:     service,
		Size:    int64(n) * recordSize,
		Records: n,
		Build: func() plog.Logs {
			ld := plog.NewLogs()
			lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
			for range n {
				lrs.AppendEmpty().Attributes().PutStr(logattr.Service, service)
			}
			return ld
		},
	}
}

// paced is a slow consumer: each request waits for a token from the test,
// which so sets its capacity (one request per round), and it counts what
// it accepted by service.
type paced struct {
	tokens  chan struct{}
	entered chan struct{}
	mu      sync.Mutex
	got     map[string]int
}

func newPaced() *paced {
	return &paced{tokens: make(chan struct{}), entered: make(chan struct{}, 1), got: map[string]int{}}
}

func (*paced) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *paced) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	c.entered <- struct{}{}
	select {
	case <-c.tokens:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		lrs := rls.At(i).ScopeLogs().At(0).LogRecords()
		for j := range lrs.Len() {
			v, _ := lrs.At(j).Attributes().Get(logattr.Service)
			c.got[v.Str()]++
		}
	}
	return nil
}

func (c *paced) accepted(service string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[service]
}

// serviceDrops counts OnServiceDrop calls by service and reason.
type serviceDrops struct {
	mu sync.Mutex
	m  map[[2]string]int
}

func (d *serviceDrops) add(service, reason string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[[2]string]int{}
	}
	d.m[[2]string{service, reason}] += n
}

func (d *serviceDrops) of(service string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for k, v := range d.m {
		if k[0] == service {
			n += v
		}
	}
	return n
}

// floodBesideQuiet runs a flood from one service at 20 times what a slow
// consumer takes, beside 20 quiet services writing one record each per
// round, and returns what the quiet ones lost in all.
func floodBesideQuiet(t *testing.T, policy Policy, fair bool) (quietLost int) {
	const (
		recordSize = 1024
		maxBytes   = 2 << 20 // the smallest buffer: a request takes at most 1 MiB
		perRequest = maxBytes / 2 / recordSize
		floodBatch = 64
		rounds     = 40
		quiet      = 20
	)
	next := newPaced()
	var drops serviceDrops
	cfg := BufferConfig{MaxBytes: maxBytes, Policy: policy, FairShare: FairShareConfig{Enabled: &fair}}
	s := NewStage(cfg, StageSettings{Next: next, OnServiceDrop: drops.add})
	s.Start()
	flooded := 0
	for range rounds {
		// 20 requests' worth of the flood, a quiet record every 16
		// batches of it, so that the quiet ones arrive at a full buffer.
		for i := range 20 * perRequest / floodBatch {
			s.Offer(serviceBatch("flood", floodBatch, recordSize))
			flooded += floodBatch
			if i%16 == 15 && i/16 < quiet {
				// The flood tops the buffer up first (bounded: the
				// consumer is waiting), so the quiet record meets a full
				// buffer, whatever the sender took in the meantime.
				for j := 0; s.Held()+recordSize <= maxBytes && j < 64; j++ {
					s.Offer(serviceBatch("flood", floodBatch, recordSize))
					flooded += floodBatch
				}
				s.Offer(serviceBatch("quiet-"+strconv.Itoa(i/16), 1, recordSize))
			}
			require.LessOrEqual(t, s.Held(), int64(maxBytes))
		}
		<-next.entered // the consumer has a request and waits
		next.tokens <- struct{}{}
	}
	// The flood stops: the consumer catches up, taking every request.
	close(next.tokens)
	require.Eventually(t, func() bool {
		select {
		case <-next.entered:
		default:
		}
		return s.Held() == 0
	}, 20*time.Second, time.Millisecond)
	require.NoError(t, s.Shutdown(context.Background()))
	for q := range quiet {
		name := "quiet-" + strconv.Itoa(q)
		assert.Equal(t, rounds, next.accepted(name)+drops.of(name), "every record of %s delivered or counted", name)
		quietLost += drops.of(name)
	}
	assert.Equal(t, flooded, next.accepted("flood")+drops.of("flood"), "fed = delivered + dropped")
	assert.Greater(t, drops.of("flood"), flooded/2, "the flood's drops are counted under its own name")
	return quietLost
}

// TestStageFairShareFloodBesideQuiet: a flood from one service at 20
// times a slow consumer's capacity does not drop a single record of 20
// quiet services: every one is delivered, and the flood's drops are all
// counted under its own identity. Without fair share (the stage before
// it) the quiet services lose most of theirs to buffer_full.
func TestStageFairShareFloodBesideQuiet(t *testing.T) {
	for _, policy := range []Policy{DropNewest, DropOldest} {
		t.Run(policy.String(), func(t *testing.T) {
			assert.Zero(t, floodBesideQuiet(t, policy, true), "quiet records lost with fair share")
			lost := floodBesideQuiet(t, policy, false)
			t.Logf("without fair share: %d of %d quiet records lost", lost, 20*40)
			assert.Positive(t, lost, "without fair share the flood crowds the quiet out")
		})
	}
}

// TestStageFairShareEvictsLargestHolder: at a full buffer a service
// holding less evicts the newest (drop_newest) or oldest (drop_oldest)
// batch of the one holding the most, counted under that one's name with
// reason fair_share; the largest holder's own batch is refused.
func TestStageFairShareEvictsLargestHolder(t *testing.T) {
	for _, policy := range []Policy{DropNewest, DropOldest} {
		t.Run(policy.String(), func(t *testing.T) {
			var drops serviceDrops
			var dones doneLog
			cfg := BufferConfig{MaxBytes: 10_000, Policy: policy}
			s := NewStage(cfg, StageSettings{Next: &switchConsumer{}, OnServiceDrop: drops.add})
			for range 8 {
				b := serviceBatch("big", 1, 1000)
				idx := dones.add()
				b.Done = func(err error) { dones.done(idx, err) }
				require.True(t, s.Offer(b))
			}
			require.True(t, s.Offer(serviceBatch("small", 1, 1000)))
			require.True(t, s.Offer(serviceBatch("small", 1, 1000)))
			// Full: small (2000) + 1000 < big (8000): big loses one.
			require.True(t, s.Offer(serviceBatch("small", 1, 1000)))
			assert.Equal(t, 1, drops.m[[2]string{"big", ReasonFairShare}])
			evicted := 7 // the newest
			if policy == DropOldest {
				evicted = 0
			}
			dones.mu.Lock()
			assert.Equal(t, 1, dones.calls[evicted])
			require.ErrorIs(t, dones.errs[evicted], ErrDropped)
			assert.Equal(t, ReasonFairShare, dones.errs[evicted].(*DropError).Reason)
			dones.mu.Unlock()
			// big's own batch at a full buffer: big holds the most.
			if policy == DropNewest {
				assert.False(t, s.Offer(serviceBatch("big", 1, 1000)))
			} else {
				assert.True(t, s.Offer(serviceBatch("big", 1, 1000)), "evicts its own oldest")
			}
			assert.Equal(t, 1, drops.m[[2]string{"big", ReasonBufferFull}])
			assert.Zero(t, drops.of("small"))
			assert.Equal(t, int64(10_000), s.Held())
			require.NoError(t, s.Shutdown(context.Background()))
		})
	}
}

// TestStageFairShareOverflowKey: beyond max_services the services with
// something queued share one holder, OverflowKey, whose share they lose
// together (each drop still counted under its own service); the table
// never grows past the bound.
func TestStageFairShareOverflowKey(t *testing.T) {
	var drops serviceDrops
	cfg := BufferConfig{MaxBytes: 60_000, FairShare: FairShareConfig{MaxServices: 4}}
	s := NewStage(cfg, StageSettings{Next: &switchConsumer{}, OnServiceDrop: drops.add})
	for i := range 50 {
		require.True(t, s.Offer(serviceBatch("s"+strconv.Itoa(i), 1, 1000)))
	}
	assert.Equal(t, int64(5), s.services(), "4 services and the overflow holder")
	s.mu.Lock()
	assert.Equal(t, int64(46_000), s.holders[OverflowKey].held)
	s.mu.Unlock()
	// 10 more fill the buffer; then s0 (11 of 60 held) evicts from the
	// overflow holder (46 held).
	for range 15 {
		require.True(t, s.Offer(serviceBatch("s0", 1, 1000)))
	}
	overflowed := 0
	for i := 4; i < 50; i++ {
		overflowed += drops.m[[2]string{"s" + strconv.Itoa(i), ReasonFairShare}]
	}
	assert.Equal(t, 5, overflowed, "evicted from the overflow holder, counted under their own names")
	assert.Zero(t, drops.of("s0")+drops.of("s1")+drops.of("s2")+drops.of("s3"))
	require.NoError(t, s.Shutdown(context.Background()))
	assert.Equal(t, int64(0), s.services(), "holders go when they hold nothing")
}

// TestStageFairShareCountsMergedDropsByService: a merged request of
// several services refused for good is counted under each of them.
func TestStageFairShareCountsMergedDropsByService(t *testing.T) {
	var drops serviceDrops
	next := &switchConsumer{}
	next.mode.Store(2)
	cfg := DefaultBufferConfig()
	s := NewStage(cfg, StageSettings{Next: next, OnServiceDrop: drops.add})
	for _, svc := range []string{"a", "a", "b", "c", "b"} {
		require.True(t, s.Offer(serviceBatch(svc, 2, 100)))
	}
	s.Start()
	testutil.WaitFor(t, 10*time.Second, "the condition", func() bool { return drops.of("a")+drops.of("b")+drops.of("c") == 10 })
	require.NoError(t, s.Shutdown(context.Background()))
	assert.Equal(t, map[[2]string]int{{"a", ReasonRefused}: 4, {"b", ReasonRefused}: 4, {"c", ReasonRefused}: 2}, drops.m)
}

// TestFairShareConfig: on unless switched off; the table's bound is
// checked and the message says what to write.
func TestFairShareConfig(t *testing.T) {
	assert.True(t, DefaultBufferConfig().FairShare.IsEnabled())
	off := false
	assert.False(t, FairShareConfig{Enabled: &off}.IsEnabled())
	assert.Equal(t, DefaultMaxServices, FairShareConfig{}.maxServices())
	cfg := DefaultBufferConfig()
	cfg.FairShare.MaxServices = -1
	// The group validates itself; the collector names its path once.
	require.NoError(t, cfg.Validate(), "buffer leaves fair_share to its own Validate")
	err := confmap.Validate(cfg)
	require.ErrorContains(t, err, "fair_share: max_services must be between 1 and 1048576 (0 for the default 1024); write e.g. 1024")
	assert.Equal(t, 1, strings.Count(err.Error(), "max_services"), "reported once: %v", err)
	s := NewStage(BufferConfig{MaxBytes: 1 << 20, FairShare: FairShareConfig{Enabled: &off}}, StageSettings{Next: &switchConsumer{}})
	guards := s.Guards()
	require.Len(t, guards, 2)
	assert.True(t, guards[1].Disabled, "fair share switched off is visible")
	assert.False(t, guards[0].Disabled)
}
