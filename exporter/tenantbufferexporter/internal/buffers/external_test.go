package buffers

import (
	"math"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"
)

// Bytes held outside the buffers count toward max_total_bytes: the
// buffers get what they leave of the budget, and say so in BudgetBytes.
func TestExternalBytesCountTowardMaxTotal(t *testing.T) {
	o := testOptions(t.TempDir())
	frame := int64(segment.FrameSize(100))
	o.MaxTotalBytes = 100 * frame
	o.MaxTenantBytes = Unlimited
	var ext atomic.Int64
	ext.Store(80 * frame)
	o.ExternalBytes = ext.Load
	s := openStore(t, o)

	res := mustAppend(t, s, "a", payloads("x", 25, 100))
	require.Equal(t, 20, res.Accepted)
	require.Equal(t, 5, res.Refused[ReasonTotalBytes])
	st := s.Stats()
	require.Equal(t, 80*frame, st.ExternalBytes)
	require.Equal(t, 20*frame, st.BudgetBytes, "what the external bytes leave for the buffers")
	// At the limit, the sweeper may already be trimming: never above it.
	require.LessOrEqual(t, st.Bytes, 20*frame)

	// The external bytes shrink: the buffers may grow again.
	ext.Store(0)
	res = mustAppend(t, s, "b", payloads("y", 25, 100))
	require.Equal(t, 25, res.Accepted)
	require.Equal(t, 100*frame, s.Stats().BudgetBytes)
}

// Reclaim works on the buffers' share of the budget: when the external
// bytes grow, the buffers (only they) are trimmed fairly, from 95% of what
// is left to them down to 85% of it.
func TestExternalBytesTriggerReclaimOfBuffers(t *testing.T) {
	o := testOptions(t.TempDir())
	frame := int64(segment.FrameSize(100))
	o.MaxTotalBytes = 400 * frame
	o.MaxTenantBytes = Unlimited
	var ext atomic.Int64
	o.ExternalBytes = ext.Load
	s := openStore(t, o)
	mustAppend(t, s, "a", payloads("a", 150, 100))
	mustAppend(t, s, "b", payloads("b", 150, 100))
	s.Sweep()
	require.Zero(t, s.Stats().ReclaimedBytes, "300 of 400 frames: below the threshold")

	ext.Store(200 * frame)
	s.Sweep()
	st := s.Stats()
	require.Positive(t, st.ReclaimedBytes)
	require.LessOrEqual(t, st.Bytes, 200*frame/100*reclaimTargetPct)
	require.Greater(t, st.Bytes, 200*frame/2, "trimmed to the target, not emptied")
	require.Equal(t, 200*frame, ext.Load(), "external bytes are never touched")
	ta, _ := s.TenantBytes("a")
	tb, _ := s.TenantBytes("b")
	require.InDelta(t, ta, tb, float64(o.SegmentBytes), "trimmed fairly")
}

// The free-disk watermark: the external bytes are on the same file system,
// already out of its free space, so they count once. The watermark is set
// 1 GiB under the free space and 2 GiB are held outside the buffers: a
// budget that also took them from the free space would refuse everything.
func TestExternalBytesCountOnceAgainstFreeDisk(t *testing.T) {
	o := testOptions(t.TempDir())
	o.MaxTotalBytes = Unlimited
	o.MaxTenantBytes = Unlimited
	const room, ext = int64(1) << 30, int64(2) << 30
	o.MinFreeDiskBytes = freeDisk(t, o.Dir) - room
	o.ExternalBytes = func() int64 { return ext }
	s := openStore(t, o)
	res := mustAppend(t, s, "a", payloads("x", 3, 100))
	require.Equal(t, 3, res.Accepted)
	st := s.Stats()
	// Other processes write to the disk too: allow them half the room.
	require.InDelta(t, ext+room, st.DiskBudgetBytes, float64(room/2))
	require.Equal(t, st.DiskBudgetBytes-ext, st.BudgetBytes, "the buffers' share is the room above the watermark")

	// And the watermark still refuses when the disk is short.
	o2 := testOptions(t.TempDir())
	o2.MinFreeDiskBytes = math.MaxInt64 / 4
	o2.ExternalBytes = func() int64 { return 1 << 20 }
	s2 := openStore(t, o2)
	res = mustAppend(t, s2, "a", payloads("x", 3, 100))
	require.Equal(t, 3, res.Refused[ReasonMinFreeDisk])
}

func freeDisk(t *testing.T, dir string) int64 {
	t.Helper()
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(dir, &st))
	free := int64(st.Bavail) * int64(st.Bsize)
	if free < 4<<30 {
		t.Skipf("%d bytes free: the test needs 4 GiB of room to measure against", free)
	}
	return free
}
