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
// buffers get what is left of the budget, and say so in BudgetBytes.
func TestExternalBytesCountTowardMaxTotal(t *testing.T) {
	o := testOptions(t.TempDir())
	frame := int64(segment.FrameSize(100))
	o.MaxTotalBytes = 100 * frame
	o.MaxTenantBytes = Unlimited
	var ext atomic.Int64
	ext.Store(90 * frame)
	o.ExternalBytes = ext.Load
	s := openStore(t, o)

	res := mustAppend(t, s, "a", payloads("x", 15, 100))
	require.Equal(t, 10, res.Accepted)
	require.Equal(t, 5, res.Refused[ReasonTotalBytes])
	st := s.Stats()
	require.Equal(t, 10*frame, st.Bytes)
	require.Equal(t, 90*frame, st.ExternalBytes)
	require.Equal(t, 10*frame, st.BudgetBytes, "what is left for the buffers")

	// The external bytes shrink: the buffers may grow again.
	ext.Store(80 * frame)
	res = mustAppend(t, s, "a", payloads("y", 15, 100))
	require.Equal(t, 10, res.Accepted)
	require.Equal(t, 5, res.Refused[ReasonTotalBytes])
	st = s.Stats()
	require.Equal(t, st.BudgetBytes, st.Bytes)
}

// When buffers and external bytes together pass the reclaim threshold, the
// buffers (only they) are trimmed until both fit under the target.
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
	require.LessOrEqual(t, st.Bytes+ext.Load(), o.MaxTotalBytes/100*reclaimTargetPct)
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
