package handlecache

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func keys[K comparable, V any](c *Cache[K, V]) []K {
	var out []K
	for k := range c.All() {
		out = append(out, k)
	}
	return out
}

// Eviction takes the least recently used: use (Get, Add of a present
// key) moves an entry to the front, Peek does not.
func TestEvictionOrder(t *testing.T) {
	var evicted []string
	c := New(3, func(k string, _ int) { evicted = append(evicted, k) })
	c.Add("a", 1)
	c.Add("b", 2)
	c.Add("c", 3)
	assert.Equal(t, []string{"c", "b", "a"}, keys(c))
	_, ok := c.Get("a") // a is now the most recent; b the least
	require.True(t, ok)
	_, ok = c.Peek("b") // no use
	require.True(t, ok)
	c.Add("d", 4)
	assert.Equal(t, []string{"b"}, evicted)
	assert.Equal(t, []string{"d", "a", "c"}, keys(c))
	c.Add("c", 33) // present: updated and used, nothing evicted
	v, _ := c.Peek("c")
	assert.Equal(t, 33, v)
	c.Add("e", 5)
	c.Add("f", 6)
	assert.Equal(t, []string{"b", "a", "d"}, evicted)
	assert.Equal(t, []string{"f", "e", "c"}, keys(c))
	assert.Equal(t, uint64(3), c.Evictions())
	k, v, ok := c.Front()
	assert.True(t, ok)
	assert.Equal(t, "f", k)
	assert.Equal(t, 6, v)
}

// Remove is the caller closing the handle itself: no callback, no count.
func TestRemoveIsNoEviction(t *testing.T) {
	calls := 0
	c := New(2, func(int, int) { calls++ })
	c.Add(1, 1)
	c.Add(2, 2)
	v, ok := c.Remove(1)
	assert.True(t, ok)
	assert.Equal(t, 1, v)
	_, ok = c.Remove(1)
	assert.False(t, ok)
	c.Add(3, 3) // fits: 1 was removed
	assert.Zero(t, calls)
	assert.Zero(t, c.Evictions())
	assert.Equal(t, []int{3, 2}, keys(c))
	c.Remove(3)
	c.Remove(2)
	assert.Zero(t, c.Len())
	_, _, ok = c.Front()
	assert.False(t, ok)
	c.Add(4, 4) // the list is whole again after emptying it
	assert.Equal(t, []int{4}, keys(c))
}

// MakeRoom evicts down to max-1 so that a new handle can be opened
// before it is added, never holding more than max open.
func TestMakeRoom(t *testing.T) {
	var evicted []int
	c := New(2, func(k, _ int) { evicted = append(evicted, k) })
	c.MakeRoom()
	assert.Empty(t, evicted)
	c.Add(1, 1)
	c.Add(2, 2)
	c.MakeRoom()
	assert.Equal(t, []int{1}, evicted)
	assert.Equal(t, 1, c.Len())
}

// An entry may be removed while it is being yielded (the logfile
// exporter closes files during its maintenance pass).
func TestAllWhileRemoving(t *testing.T) {
	c := New[int, int](10, nil)
	for i := range 5 {
		c.Add(i, i)
	}
	var seen []int
	for k := range c.All() {
		seen = append(seen, k)
		if k%2 == 0 {
			c.Remove(k)
		}
	}
	assert.Equal(t, []int{4, 3, 2, 1, 0}, seen)
	assert.Equal(t, []int{3, 1}, keys(c))
	for k := range c.All() {
		if k == 3 {
			break
		}
		t.Fatal("not stopped")
	}
}

// Close on evict with real files: the evicted file's descriptor is
// closed, the others stay open, and at no time are more than max open.
func TestCloseOnEvict(t *testing.T) {
	dir := t.TempDir()
	const maxOpen = 3
	c := New(maxOpen, func(_ string, f *os.File) { require.NoError(t, f.Close()) })
	files := map[string]*os.File{}
	for i := range 8 {
		name := filepath.Join(dir, string(rune('a'+i)))
		c.MakeRoom()
		f, err := os.Create(name)
		require.NoError(t, err)
		files[name] = f
		c.Add(name, f)
		assert.LessOrEqual(t, c.Len(), maxOpen)
	}
	open := keys(c)
	require.Len(t, open, maxOpen)
	for name, f := range files {
		_, err := f.Write([]byte("x"))
		if slices.Contains(open, name) {
			assert.NoError(t, err, "%s is still in the cache: open", name)
		} else {
			assert.ErrorIs(t, err, os.ErrClosed, "%s was evicted: closed", name)
		}
	}
	assert.Equal(t, uint64(8-maxOpen), c.Evictions())
}
