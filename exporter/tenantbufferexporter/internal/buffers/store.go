package buffers

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

const numShards = 256

// ErrClosed is returned by calls on a closed Store.
var ErrClosed = errors.New("buffers: store closed")

// ErrUnknownTenant is returned for a tenant that has no buffer.
var ErrUnknownTenant = errors.New("buffers: no buffer for this tenant")

// ErrUnknownConsumer is returned for a consumer name not in Options.Consumers.
var ErrUnknownConsumer = errors.New("buffers: unknown consumer")

type shard struct {
	mu sync.RWMutex
	m  map[string]*tenant
}

// Store holds every tenant's buffer under one directory.
type Store struct {
	opts      Options
	id        string // the store's identity (ID)
	root      string // Dir/t: one directory per tenant
	rootFile  *os.File
	seed      maphash.Seed
	shards    [numShards]shard
	consumers map[string]int
	handles   *handleCache
	group     groupCommit

	buffers    atomic.Int64
	total      atomic.Int64
	budget     atomic.Int64 // effective budget of buffers and external bytes together (max total, lowered by the free-disk watermark)
	diskBudget atomic.Int64 // what the free-disk watermark alone allows them (math.MaxInt64: no watermark)
	diskBound  atomic.Bool  // budget is set by the free-disk watermark
	largest    atomic.Int64 // bytes of the largest buffer, as of the last sweep
	fairLevel  atomic.Int64 // last max-min fair share computed by reclaim
	rootDirty  atomic.Bool  // a tenant directory was created since the last sync

	refused     [numReasons]atomic.Int64
	overflowed  atomic.Int64
	reclaimed   atomic.Int64 // bytes removed by fair reclaim
	expired     atomic.Int64 // bytes removed by retention
	consumed    atomic.Int64 // bytes removed after every consumer passed them
	deleted     atomic.Int64 // bytes removed by DeleteTenant
	tornBytes   atomic.Int64 // bytes cut off at recovery
	tornSegs    atomic.Int64
	skipped     atomic.Int64 // bytes consumers never read (reclaimed, expired or corrupt)
	badPosFiles atomic.Int64
	// directories found at start-up that no buffer could be made of (a
	// name file lost with records behind it, or a second directory of
	// one tenant): left on disk untouched
	unreadableDirs atomic.Int64

	statsMu sync.Mutex
	top     []TenantStat

	kick    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
	closed  atomic.Bool
	closeMu sync.RWMutex // Append/Read hold it shared; Close exclusively
}

// Open opens (or creates) the store in opts.Dir, recovering every tenant's
// buffer: a torn or corrupt tail is cut off and counted, never an error.
func Open(opts Options) (*Store, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	s := &Store{
		opts:      opts,
		root:      filepath.Join(opts.Dir, "t"),
		seed:      maphash.MakeSeed(),
		consumers: make(map[string]int, len(opts.Consumers)),
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
	}
	for i, c := range opts.Consumers {
		s.consumers[c] = i
	}
	for i := range s.shards {
		s.shards[i].m = make(map[string]*tenant)
	}
	s.handles = newHandleCache(opts.MaxOpenFiles)
	if err := os.MkdirAll(s.root, 0o750); err != nil {
		return nil, fmt.Errorf("buffers: %w", err)
	}
	id, err := loadOrCreateID(opts.Dir)
	if err != nil {
		return nil, err
	}
	s.id = id
	f, err := os.Open(s.root)
	if err != nil {
		return nil, fmt.Errorf("buffers: %w", err)
	}
	s.rootFile = f
	if err := s.recover(); err != nil {
		_ = f.Close() // a read-only directory handle; the recover error is the one to return
		return nil, err
	}
	s.budget.Store(s.maxTotal())
	s.diskBudget.Store(math.MaxInt64)
	s.fairLevel.Store(math.MaxInt64)
	if opts.OverflowTenant != "" {
		if _, ok := s.lookup(opts.OverflowTenant); !ok {
			s.insert(opts.OverflowTenant, s.newTenant(opts.OverflowTenant))
		}
	}
	s.updateBudget()
	s.wg.Add(1)
	go s.sweeper()
	return s, nil
}

func (s *Store) maxTotal() int64 {
	if s.opts.MaxTotalBytes < 0 {
		return math.MaxInt64
	}
	return s.opts.MaxTotalBytes
}

// externalBytes is what Options.ExternalBytes reports, within [0, 2^62]
// so that sums with it cannot overflow.
func (s *Store) externalBytes() int64 {
	if s.opts.ExternalBytes == nil {
		return 0
	}
	return min(max(s.opts.ExternalBytes(), 0), 1<<62)
}

func (s *Store) shardOf(name string) *shard {
	return &s.shards[maphash.String(s.seed, name)%numShards]
}

func (s *Store) lookup(name string) (*tenant, bool) {
	sh := s.shardOf(name)
	sh.mu.RLock()
	t, ok := sh.m[name]
	sh.mu.RUnlock()
	return t, ok
}

// insert adds t unless the name is taken, and returns the tenant in the map.
func (s *Store) insert(name string, t *tenant) *tenant {
	sh := s.shardOf(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[name]; ok {
		return old
	}
	sh.m[name] = t
	s.buffers.Add(1)
	return t
}

func (s *Store) remove(t *tenant) {
	sh := s.shardOf(t.name)
	sh.mu.Lock()
	if sh.m[t.name] == t {
		delete(sh.m, t.name)
		s.buffers.Add(-1)
	}
	sh.mu.Unlock()
}

// admit returns the tenant's buffer, creating it if the buffer cap allows.
// At the cap it returns the overflow buffer if one is configured.
func (s *Store) admit(name string) (t *tenant, overflow bool, ok bool) {
	if t, ok := s.lookup(name); ok {
		return t, false, true
	}
	max := int64(s.opts.MaxBuffers)
	for {
		n := s.buffers.Load()
		if max >= 0 && n >= max {
			break
		}
		// Reserve a slot optimistically; insert gives it back if another
		// goroutine created the same tenant first.
		nt := s.newTenant(name)
		sh := s.shardOf(name)
		sh.mu.Lock()
		if old, exists := sh.m[name]; exists {
			sh.mu.Unlock()
			return old, false, true
		}
		if max >= 0 && !s.buffers.CompareAndSwap(n, n+1) {
			sh.mu.Unlock()
			continue
		}
		if max < 0 {
			s.buffers.Add(1)
		}
		sh.m[name] = nt
		sh.mu.Unlock()
		return nt, false, true
	}
	if s.opts.OverflowTenant != "" {
		if t, ok := s.lookup(s.opts.OverflowTenant); ok {
			return t, true, true
		}
	}
	return nil, false, false
}

// forEach calls fn for every tenant; it holds a shard's read lock only while
// copying that shard's pointers, never while fn runs.
func (s *Store) forEach(fn func(*tenant)) {
	var buf []*tenant
	for i := range s.shards {
		sh := &s.shards[i]
		buf = buf[:0]
		sh.mu.RLock()
		for _, t := range sh.m {
			buf = append(buf, t)
		}
		sh.mu.RUnlock()
		for _, t := range buf {
			fn(t)
		}
	}
}

// Close stops the sweeper, syncs and closes every open file.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	s.wg.Wait()
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	var errs []error
	s.forEach(func(t *tenant) {
		t.mu.Lock()
		if err := s.closeWriterLocked(t); err != nil {
			errs = append(errs, err)
		}
		t.mu.Unlock()
	})
	errs = append(errs, s.rootFile.Close())
	return errors.Join(errs...)
}
