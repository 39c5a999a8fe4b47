package buffers

import (
	"sync"

	"github.com/otelcol-logx/otelcol-logx/internal/handlecache"
)

// handleCache bounds the open segment writers. It holds only tenant
// pointers and generations: closing an evicted writer needs that tenant's
// lock, which the evicting goroutine may not take while it holds its own,
// so evictions are handed back to be closed later (closeEvicted).
type handleCache struct {
	mu      sync.Mutex
	gen     uint64
	lru     *handlecache.Cache[*tenant, uint64]
	pending []evicted
}

type evicted struct {
	t   *tenant
	gen uint64
}

func newHandleCache(size int) *handleCache {
	c := &handleCache{}
	c.lru = handlecache.New(size, func(t *tenant, gen uint64) {
		c.pending = append(c.pending, evicted{t, gen})
	})
	return c
}

// add records t's new writer (t.mu held) and returns evictions appended to victims.
func (c *handleCache) add(t *tenant, victims []evicted) []evicted {
	c.mu.Lock()
	c.gen++
	t.cacheGen = c.gen
	c.lru.Add(t, c.gen)
	victims = append(victims, c.pending...)
	c.pending = c.pending[:0]
	c.mu.Unlock()
	return victims
}

func (c *handleCache) remove(t *tenant) {
	c.mu.Lock()
	c.lru.Remove(t) // the caller closes t's writer: no eviction
	c.mu.Unlock()
}

func (c *handleCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// closeEvicted closes writers the cache let go of, unless they were
// reopened since (a newer generation).
func (s *Store) closeEvicted(victims []evicted) {
	for _, v := range victims {
		v.t.mu.Lock()
		if v.t.w != nil && v.t.cacheGen == v.gen {
			_ = s.closeWriterLocked(v.t)
		}
		v.t.mu.Unlock()
	}
}
