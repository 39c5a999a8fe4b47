package buffers

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"
)

// TenantRecords is one tenant's share of an append.
type TenantRecords struct {
	Tenant   string
	Payloads [][]byte
}

// AppendResult counts what an Append did with its records.
type AppendResult struct {
	Accepted   int
	Overflowed int // accepted into the overflow buffer
	Refused    [numReasons]int
	// Failure is the first error behind records refused as tenant_dir or
	// write_error, for the log (nil when there were none). It is not
	// returned as Append's error: those records are refused and counted
	// alone, so that the caller does not retry the batch and write every
	// other tenant's records twice.
	Failure error
}

// RefusedTotal sums the refused records over every reason.
func (r *AppendResult) RefusedTotal() int {
	n := 0
	for _, v := range r.Refused {
		n += v
	}
	return n
}

// syncEachLimit: up to this many touched tenants are synced file by file;
// beyond it one syncfs(2) of the file system is cheaper than many fsyncs.
const syncEachLimit = 8

type scratch struct {
	frames []byte
	sizes  []int
	synced []*tenant
	vict   []evicted
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Append writes each tenant's records to its buffer. When it returns nil,
// every accepted record is on disk and (with Options.Sync) synced: that is
// the durability point. Refused records are counted in the result and in
// the store's counters, those a tenant's directory or segment could not
// take (tenant_dir, write_error) too: one tenant's failure never fails the
// others. The error is for what concerns the whole call: a closed store,
// or a sync that failed, so that accepted records may not be durable.
func (s *Store) Append(batch []TenantRecords) (AppendResult, error) {
	var res AppendResult
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return res, ErrClosed
	}
	sc := scratchPool.Get().(*scratch)
	defer func() {
		sc.synced = sc.synced[:0]
		sc.vict = sc.vict[:0]
		scratchPool.Put(sc)
	}()
	now := s.opts.Now().UnixNano()
	ext := s.externalBytes()
	for _, tr := range batch {
		if len(tr.Payloads) == 0 {
			continue
		}
		if t := s.appendTenant(tr, now, ext, &res, sc); t != nil {
			sc.synced = append(sc.synced, t)
		}
	}
	var err error
	if s.opts.Sync && len(sc.synced) > 0 {
		err = s.syncTenants(sc.synced)
	}
	s.closeEvicted(sc.vict)
	if share := s.bufferBudget(ext); s.total.Load() > share/100*reclaimStartPct {
		s.kickSweeper()
	}
	return res, err
}

// appendTenant appends one tenant's records under that tenant's lock only,
// and returns the tenant when it wrote something (to be synced). ext is
// the bytes held outside the buffers, counted against the budget.
func (s *Store) appendTenant(tr TenantRecords, now, ext int64, res *AppendResult, sc *scratch) *tenant {
	for {
		t, overflow, ok := s.admit(tr.Tenant)
		if !ok {
			res.Refused[ReasonMaxBuffers] += len(tr.Payloads)
			s.refused[ReasonMaxBuffers].Add(int64(len(tr.Payloads)))
			return nil
		}
		t.mu.Lock()
		if t.deleted { // lost a race with deletion or idle removal: look again
			t.mu.Unlock()
			continue
		}
		refused := s.frameLocked(t, tr.Payloads, now, ext, sc)
		written := s.writeFramesLocked(t, now, res, sc, &refused)
		// A tenant that got nothing on disk holds no slot under the cap.
		s.dropEmptyLocked(t)
		t.mu.Unlock()
		s.countAppend(res, &refused, written, overflow)
		if written == 0 {
			return nil
		}
		return t
	}
}

// frameLocked frames into sc the payloads that fit under the limits (record
// size, the tenant's bytes, the budget) and counts the others by reason.
func (s *Store) frameLocked(t *tenant, payloads [][]byte, now, ext int64, sc *scratch) [numReasons]int {
	sc.frames, sc.sizes = sc.frames[:0], sc.sizes[:0]
	var refused [numReasons]int
	tenantBytes := t.bytes.Load()
	total := s.total.Load() + ext
	budget := s.budget.Load()
	for _, p := range payloads {
		sz := segment.FrameSize(len(p))
		switch {
		case len(p) > s.opts.MaxRecordBytes:
			refused[ReasonRecordTooLarge]++
			continue
		case s.opts.MaxTenantBytes >= 0 && tenantBytes+int64(sz) > s.opts.MaxTenantBytes:
			refused[ReasonTenantBytes]++
			continue
		case total+int64(sz) > budget:
			if s.diskBound.Load() {
				refused[ReasonMinFreeDisk]++
			} else {
				refused[ReasonTotalBytes]++
			}
			continue
		}
		tenantBytes += int64(sz)
		total += int64(sz)
		sc.frames = segment.AppendFrame(sc.frames, now, p)
		sc.sizes = append(sc.sizes, sz)
	}
	return refused
}

// writeFramesLocked writes the frames of sc to t's buffer and returns how
// many records went; those a write error kept out are counted in refused,
// and the first error is the result's Failure.
func (s *Store) writeFramesLocked(t *tenant, now int64, res *AppendResult, sc *scratch, refused *[numReasons]int) int {
	written := 0
	if len(sc.sizes) > 0 {
		recEnd := t.recEnd
		var err error
		sc.vict, err = s.writeLocked(t, sc.frames, sc.sizes, now, sc.vict)
		written = int(t.recEnd - recEnd) //nolint:gosec // G115: a difference of record counts within one append batch
		t.lastUse.Store(now)
		if err != nil {
			reason := ReasonWriteError
			if de := (*dirError)(nil); errors.As(err, &de) {
				reason = ReasonTenantDir
			}
			refused[reason] += len(sc.sizes) - written
			if res.Failure == nil {
				res.Failure = err
			}
		}
	}
	return written
}

// countAppend adds one tenant's append to the result and the store's
// counters: refused by reason, accepted, and overflowed when the records
// went to the overflow buffer.
func (s *Store) countAppend(res *AppendResult, refused *[numReasons]int, written int, overflow bool) {
	for r, n := range refused {
		if n > 0 {
			res.Refused[r] += n
			s.refused[r].Add(int64(n))
		}
	}
	res.Accepted += written
	if overflow {
		res.Overflowed += written
		s.overflowed.Add(int64(written))
	}
}

// syncTenants makes the writes of this Append durable.
func (s *Store) syncTenants(ts []*tenant) error {
	if len(ts) > syncEachLimit {
		// One syncfs covers data, new files and new directories alike, and
		// concurrent Appends share it (group commit).
		err := s.group.sync(func() error { return unix.Syncfs(int(s.rootFile.Fd())) })
		// A writer closed in between was fdatasynced by its closer; if that
		// failed, the kernel may have dropped the pages: report it.
		for _, t := range ts {
			t.mu.Lock()
			if t.syncErr != nil {
				err = errors.Join(err, t.syncErr)
				t.syncErr = nil
			}
			t.mu.Unlock()
		}
		return err
	}
	var errs []error
	for _, t := range ts {
		t.mu.Lock()
		if t.syncErr != nil {
			errs = append(errs, t.syncErr)
			t.syncErr = nil
		}
		if t.w != nil && t.dirty {
			if err := unix.Fdatasync(int(t.w.Fd())); err != nil {
				errs = append(errs, err)
			} else {
				t.dirty = false
			}
		}
		if t.nameNew {
			if err := syncNameFile(s.tenantDir(t)); err != nil {
				errs = append(errs, err)
			} else {
				t.nameNew = false
			}
		}
		if t.dirDirty {
			if err := syncDir(s.tenantDir(t)); err != nil {
				errs = append(errs, err)
			} else {
				t.dirDirty = false
			}
		}
		t.mu.Unlock()
	}
	if s.rootDirty.Swap(false) {
		if err := s.rootFile.Sync(); err != nil {
			s.rootDirty.Store(true)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// groupCommit lets concurrent Appends share one file-system sync: a sync
// round covers every write finished before the round started, so a caller
// waits for the first round that starts after it arrived, running it
// itself when none is running.
type groupCommit struct {
	mu        sync.Mutex
	cond      *sync.Cond
	started   uint64
	completed uint64
	running   bool
	err       error // of the last completed round
}

func (g *groupCommit) sync(do func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	need := g.started + 1
	for g.completed < need {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		g.started++
		round := g.started
		g.mu.Unlock()
		err := do()
		g.mu.Lock()
		g.running = false
		g.completed, g.err = round, err
		g.cond.Broadcast()
	}
	return g.err
}
