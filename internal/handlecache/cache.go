package handlecache

import "iter"

// Cache holds at most max entries, ordered by use. An entry pushed out
// (by Add beyond max, or by MakeRoom) is handed to the onEvict function
// given to New, which closes the handle or, when closing needs a lock
// the caller may not take there, notes it to be closed later. Entries
// taken out with Remove are not handed to it: the caller is closing them.
//
// Not safe for concurrent use: every call, onEvict included, runs under
// the caller's own lock, which already guards the handles themselves.
type Cache[K comparable, V any] struct {
	max        int
	items      map[K]*entry[K, V]
	head, tail *entry[K, V] // most and least recently used
	onEvict    func(K, V)
	evictions  uint64
}

type entry[K comparable, V any] struct {
	key        K
	val        V
	prev, next *entry[K, V]
}

// New returns a cache of at most max (at least 1) entries; onEvict may be nil.
func New[K comparable, V any](maxEntries int, onEvict func(K, V)) *Cache[K, V] {
	return &Cache[K, V]{max: max(maxEntries, 1), items: map[K]*entry[K, V]{}, onEvict: onEvict}
}

// Len returns the number of entries.
func (c *Cache[K, V]) Len() int { return len(c.items) }

// Evictions returns how many entries were evicted (not removed) so far.
func (c *Cache[K, V]) Evictions() uint64 { return c.evictions }

// Get returns k's value and marks it the most recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	e, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.moveFront(e)
	return e.val, true
}

// Peek returns k's value without marking it used.
func (c *Cache[K, V]) Peek(k K) (V, bool) {
	if e, ok := c.items[k]; ok {
		return e.val, true
	}
	var zero V
	return zero, false
}

// Front returns the most recently used entry: a caller whose next use is
// usually the same handle checks it before any lookup.
func (c *Cache[K, V]) Front() (K, V, bool) {
	if c.head == nil {
		var k K
		var v V
		return k, v, false
	}
	return c.head.key, c.head.val, true
}

// Add sets k's value and marks it the most recently used, then evicts
// the least recently used entries beyond max.
func (c *Cache[K, V]) Add(k K, v V) {
	if e, ok := c.items[k]; ok {
		e.val = v
		c.moveFront(e)
		return
	}
	e := &entry[K, V]{key: k, val: v}
	c.items[k] = e
	c.pushFront(e)
	for len(c.items) > c.max {
		c.evictOldest()
	}
}

// MakeRoom evicts the least recently used entries until one more fits:
// a caller that opens the new handle before Add would otherwise hold
// max+1 open for a moment.
func (c *Cache[K, V]) MakeRoom() {
	for len(c.items) >= c.max {
		c.evictOldest()
	}
}

// Remove takes k out without calling onEvict, and returns its value.
func (c *Cache[K, V]) Remove(k K) (V, bool) {
	e, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	delete(c.items, k)
	c.unlink(e)
	return e.val, true
}

// All yields the entries from the most to the least recently used. The
// entry just yielded may be removed (or evicted) before the next; other
// changes during the iteration are not allowed.
func (c *Cache[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		for e := c.head; e != nil; {
			next := e.next
			if !yield(e.key, e.val) {
				return
			}
			e = next
		}
	}
}

func (c *Cache[K, V]) evictOldest() {
	e := c.tail
	delete(c.items, e.key)
	c.unlink(e)
	c.evictions++
	if c.onEvict != nil {
		c.onEvict(e.key, e.val)
	}
}

func (c *Cache[K, V]) pushFront(e *entry[K, V]) {
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *Cache[K, V]) unlink(e *entry[K, V]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (c *Cache[K, V]) moveFront(e *entry[K, V]) {
	if c.head == e {
		return
	}
	c.unlink(e)
	c.pushFront(e)
}
