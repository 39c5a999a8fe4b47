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
// the store's counters; an I/O error is returned after the rest was tried.
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
	var errs []error
	for _, tr := range batch {
		if len(tr.Payloads) == 0 {
			continue
		}
		t, err := s.appendTenant(tr, now, &res, sc)
		if err != nil {
			errs = append(errs, err)
		}
		if t != nil {
			sc.synced = append(sc.synced, t)
		}
	}
	if s.opts.Sync && len(sc.synced) > 0 {
		errs = append(errs, s.syncTenants(sc.synced))
	}
	s.closeEvicted(sc.vict)
	if limit := s.budget.Load(); s.total.Load() > limit/100*reclaimStartPct {
		s.kickSweeper()
	}
	return res, errors.Join(errs...)
}

// appendTenant appends one tenant's records under that tenant's lock only.
func (s *Store) appendTenant(tr TenantRecords, now int64, res *AppendResult, sc *scratch) (*tenant, error) {
	for {
		t, overflow, ok := s.admit(tr.Tenant)
		if !ok {
			res.Refused[ReasonMaxBuffers] += len(tr.Payloads)
			s.refused[ReasonMaxBuffers].Add(int64(len(tr.Payloads)))
			return nil, nil
		}
		t.mu.Lock()
		if t.deleted { // lost a race with deletion or idle removal: look again
			t.mu.Unlock()
			continue
		}
		sc.frames, sc.sizes = sc.frames[:0], sc.sizes[:0]
		var refused [numReasons]int
		tenantBytes := t.bytes.Load()
		total := s.total.Load()
		budget := s.budget.Load()
		for _, p := range tr.Payloads {
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
		var err error
		if len(sc.sizes) > 0 {
			sc.vict, err = s.writeLocked(t, sc.frames, sc.sizes, now, sc.vict)
			t.lastUse.Store(now)
		}
		t.mu.Unlock()
		for r, n := range refused {
			if n > 0 {
				res.Refused[r] += n
				s.refused[r].Add(int64(n))
			}
		}
		if err != nil {
			return t, err
		}
		res.Accepted += len(sc.sizes)
		if overflow {
			res.Overflowed += len(sc.sizes)
			s.overflowed.Add(int64(len(sc.sizes)))
		}
		if len(sc.sizes) == 0 {
			return nil, nil
		}
		return t, nil
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
