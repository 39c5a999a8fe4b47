package buffers

import (
	"container/heap"
	"math"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// Reclaim starts when the bytes held exceed reclaimStartPct of the budget
// and brings them down to reclaimTargetPct, so that writers seldom meet the
// hard limit itself.
const (
	reclaimStartPct  = 95
	reclaimTargetPct = 85
)

func (s *Store) kickSweeper() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// sweeper runs every scan over all tenants, away from the write path.
func (s *Store) sweeper() {
	defer s.wg.Done()
	tick := time.NewTicker(s.opts.SweepInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			s.Sweep()
		case <-s.kick:
			s.updateBudget()
			s.reclaimIfNeeded()
		}
	}
}

// Sweep runs one full pass: free-disk budget, retention, idle buffers,
// fair reclaim and the top-N figures. The sweeper calls it periodically;
// tests call it directly.
func (s *Store) Sweep() {
	s.updateBudget()
	now := s.opts.Now()
	idleBefore := now.Add(-s.opts.IdleTimeout).UnixNano()
	sizes := topHeap{}
	var largest int64
	s.forEach(func(t *tenant) {
		s.expire(t, now)
		s.closeIdle(t, idleBefore)
		b := t.bytes.Load()
		largest = max(largest, b)
		if s.opts.TopN > 0 && b > 0 {
			sizes.offer(TenantStat{Tenant: t.name, Bytes: b}, s.opts.TopN)
		}
	})
	s.largest.Store(largest)
	s.reclaimIfNeeded()
	top := make([]TenantStat, len(sizes))
	copy(top, sizes)
	slices.SortFunc(top, func(a, b TenantStat) int { return int(min(max(b.Bytes-a.Bytes, -1), 1)) })
	s.statsMu.Lock()
	s.top = top
	s.statsMu.Unlock()
}

// updateBudget lowers the byte budget below MaxTotalBytes when the file
// system's free space would otherwise fall under the watermark. The bytes
// held outside the buffers are on the same file system: what is used
// (buffers and external bytes) plus what is free is what the store could
// fill, less the watermark.
func (s *Store) updateBudget() {
	budget := s.maxTotal()
	diskBudget := int64(math.MaxInt64)
	diskBound := false
	if s.opts.MinFreeDiskBytes > 0 {
		var st unix.Statfs_t
		if err := unix.Statfs(s.root, &st); err == nil {
			free := int64(st.Bavail) * int64(st.Bsize) //nolint:gosec // G115: free blocks times block size of a real file system, below 2^63
			diskBudget = max(s.total.Load()+s.externalBytes()+free-s.opts.MinFreeDiskBytes, 0)
			if diskBudget < budget {
				budget, diskBound = diskBudget, true
			}
		}
	}
	s.budget.Store(budget)
	s.diskBudget.Store(diskBudget)
	s.diskBound.Store(diskBound)
}

func (s *Store) maxAgeOf(name string) time.Duration {
	if d, ok := s.opts.MaxAgeOverrides[name]; ok {
		return d
	}
	return s.opts.MaxAge
}

// expire removes t's segments whose newest record is older than its max age.
func (s *Store) expire(t *tenant, now time.Time) {
	age := s.maxAgeOf(t.name)
	if age < 0 {
		return
	}
	cut := now.Add(-age).UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.segs) > 0 && t.segs[0].lastTS < cut && !t.deleted {
		n, err := s.removeOldestLocked(t)
		if err != nil {
			return
		}
		s.expired.Add(n)
	}
}

// closeIdle releases an idle tenant's file handle; an idle tenant that holds
// no data is removed altogether, giving its slot under the buffer cap back.
func (s *Store) closeIdle(t *tenant, idleBefore int64) {
	if t.lastUse.Load() >= idleBefore {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.deleted {
		return
	}
	if t.w != nil {
		_ = s.closeWriterLocked(t)
		s.handles.remove(t)
	}
	empty := t.bytes.Load() == 0
	if !empty && len(t.pos) > 0 {
		empty = true
		for _, p := range t.pos {
			if p < t.end {
				empty = false
			}
		}
	}
	if empty && t.name != s.opts.OverflowTenant {
		n, _ := s.deleteLocked(t)
		s.consumed.Add(n)
	}
	if !t.deleted && len(t.segs) < cap(t.segs)/2 {
		t.segs = slices.Clip(slices.Clone(t.segs)) // give back what a busy past grew
	}
}

// reclaimIfNeeded trims the buffers when they pass reclaimStartPct of
// their share of the budget (what the bytes held outside them leave), down
// to reclaimTargetPct of it. Only the buffers are trimmed.
func (s *Store) reclaimIfNeeded() {
	share := s.bufferBudget(s.externalBytes())
	if share == math.MaxInt64 || s.total.Load() <= share/100*reclaimStartPct {
		return
	}
	s.ReclaimTo(share / 100 * reclaimTargetPct)
}

// bufferBudget is what the buffers may hold: the budget less the bytes
// held outside them (math.MaxInt64 when there is no budget).
func (s *Store) bufferBudget(ext int64) int64 {
	b := s.budget.Load()
	if b == math.MaxInt64 {
		return b
	}
	return max(b-ext, 0)
}

// FairShare returns the max-min fair level for sizes under target: tenants
// at or below it keep everything, tenants above it are cut to it, and the
// total is then at most target. math.MaxInt64 means no cut is needed.
func FairShare(sizes []int64, target int64) int64 {
	sorted := slices.Clone(sizes)
	slices.Sort(sorted)
	remaining := target
	for i, sz := range sorted {
		share := remaining / int64(len(sorted)-i)
		if sz > share {
			return max(share, 0)
		}
		remaining -= sz
	}
	return math.MaxInt64
}

// ReclaimTo removes the oldest data of tenants above their max-min fair
// share until the total is at most target, and returns the fair level.
func (s *Store) ReclaimTo(target int64) int64 {
	var ts []*tenant
	var sizes []int64
	s.forEach(func(t *tenant) {
		ts = append(ts, t)
		sizes = append(sizes, t.bytes.Load())
	})
	level := FairShare(sizes, target)
	s.fairLevel.Store(level)
	if level == math.MaxInt64 {
		return level
	}
	for _, t := range ts {
		if t.bytes.Load() <= level {
			continue
		}
		t.mu.Lock()
		for !t.deleted && t.bytes.Load() > level && len(t.segs) > 0 {
			n, err := s.removeOldestLocked(t)
			if err != nil {
				break
			}
			s.reclaimed.Add(n)
		}
		t.mu.Unlock()
	}
	return level
}

// DeleteTenant removes all of a tenant's data, on disk and in memory.
func (s *Store) DeleteTenant(name string) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	t, ok := s.lookup(name)
	if !ok {
		return ErrUnknownTenant
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.deleted {
		return ErrUnknownTenant
	}
	n, err := s.deleteLocked(t)
	s.deleted.Add(n)
	return err
}

// TenantStat is one tenant's figure.
type TenantStat struct {
	Tenant string
	Bytes  int64
}

// Stats is a snapshot of the store's figures.
type Stats struct {
	Buffers int64
	Bytes   int64 // held by the buffers
	// BudgetBytes is what the buffers may hold: MaxTotalBytes, lowered by
	// the free-disk watermark, less ExternalBytes (math.MaxInt64: no
	// budget, both guards off).
	BudgetBytes   int64
	ExternalBytes int64 // held outside the buffers (Options.ExternalBytes)
	// DiskBudgetBytes is what buffers and external bytes together may hold
	// before free space falls to the watermark, as of the last sweep
	// (math.MaxInt64: no watermark).
	DiskBudgetBytes    int64
	LargestTenantBytes int64 // the largest buffer, as of the last sweep
	UnreadableDirs     int64 // directories found at start-up and left alone (see recover)
	FairLevelBytes     int64 // last max-min fair share used by reclaim (math.MaxInt64: none)
	OpenFiles          int
	Refused            map[string]int64
	Overflowed         int64
	ReclaimedBytes     int64
	ExpiredBytes       int64
	ConsumedBytes      int64
	DeletedBytes       int64
	TornBytes          int64
	TornSegments       int64
	SkippedBytes       int64
	BadPositions       int64
	Top                []TenantStat // the largest TopN tenants, as of the last sweep
}

// Stats returns the current figures; cost independent of the tenant count.
func (s *Store) Stats() Stats {
	u := s.Usage()
	st := Stats{
		Buffers:            u.Buffers,
		Bytes:              u.Bytes,
		BudgetBytes:        u.BudgetBytes,
		ExternalBytes:      u.ExternalBytes,
		DiskBudgetBytes:    u.DiskBudgetBytes,
		LargestTenantBytes: u.LargestTenantBytes,
		UnreadableDirs:     s.unreadableDirs.Load(),
		FairLevelBytes:     s.fairLevel.Load(),
		OpenFiles:          int(u.OpenFiles),
		Refused:            make(map[string]int64, numReasons),
		Overflowed:         s.overflowed.Load(),
		ReclaimedBytes:     s.reclaimed.Load(),
		ExpiredBytes:       s.expired.Load(),
		ConsumedBytes:      s.consumed.Load(),
		DeletedBytes:       s.deleted.Load(),
		TornBytes:          s.tornBytes.Load(),
		TornSegments:       s.tornSegs.Load(),
		SkippedBytes:       s.skipped.Load(),
		BadPositions:       s.badPosFiles.Load(),
	}
	for r := range numReasons {
		st.Refused[r.String()] = s.refused[r].Load()
	}
	s.statsMu.Lock()
	st.Top = slices.Clone(s.top)
	s.statsMu.Unlock()
	return st
}

// Usage is what the store holds against its caps; every field is an
// atomic load, cheap enough for a metrics callback.
type Usage struct {
	Buffers            int64
	Bytes              int64 // held by the buffers
	ExternalBytes      int64
	BudgetBytes        int64 // what the buffers may hold (see Stats)
	DiskBudgetBytes    int64 // see Stats
	LargestTenantBytes int64 // as of the last sweep
	OpenFiles          int64
}

// Usage returns what the store holds against its caps, without the
// allocations of Stats.
func (s *Store) Usage() Usage {
	u := Usage{
		Buffers:            s.buffers.Load(),
		Bytes:              s.total.Load(),
		ExternalBytes:      s.externalBytes(),
		DiskBudgetBytes:    s.diskBudget.Load(),
		LargestTenantBytes: s.largest.Load(),
		OpenFiles:          int64(s.handles.len()),
	}
	u.BudgetBytes = s.bufferBudget(u.ExternalBytes)
	return u
}

// TenantBytes returns the bytes a tenant's buffer holds.
func (s *Store) TenantBytes(name string) (int64, bool) {
	t, ok := s.lookup(name)
	if !ok {
		return 0, false
	}
	return t.bytes.Load(), true
}

// topHeap keeps the largest n tenants (a min-heap on bytes).
type topHeap []TenantStat

func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return h[i].Bytes < h[j].Bytes }
func (h topHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)        { *h = append(*h, x.(TenantStat)) }
func (h *topHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (h *topHeap) offer(ts TenantStat, n int) {
	if len(*h) < n {
		heap.Push(h, ts)
		return
	}
	if (*h)[0].Bytes < ts.Bytes {
		(*h)[0] = ts
		heap.Fix(h, 0)
	}
}

// Tenants lists every tenant with a buffer (one pass over the table: for
// start-up and tools, never the write path).
func (s *Store) Tenants() []string {
	var out []string
	s.forEach(func(t *tenant) { out = append(out, t.name) })
	return out
}
