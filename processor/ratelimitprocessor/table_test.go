package ratelimitprocessor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// The shard against a map model, with tags chosen to collide and to
// cluster across the end of the slot array, so that probing, growth and
// backward-shift removal all run on their hard cases. Each key's state
// must move with it: its bucket (stamped with the key's number at insert)
// and its cold state (the same pointer).
func TestShardMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s shard
	s.init(8)
	type modelEntry struct {
		id   int64
		cold *coldState
	}
	model := map[string]modelEntry{}
	lim := newLimits(1, 1, BytesConfig{}, SeverityConfig{})
	tagOf := func(key string) uint32 {
		// Few distinct homes (and equal whole tags) for many keys.
		var h uint32
		for _, c := range key {
			h = h*31 + uint32(c)
		}
		return (h%5)*7 | 1 | uint32(len(key)%2)<<28
	}
	keyOf := func(n int) string {
		k := fmt.Sprintf("k%d", n)
		if n >= 10 {
			k += "-a-key-longer-than-the-inline-copy-of-thirty-one-bytes"
		}
		return k
	}
	for op := range 20000 {
		n := rng.IntN(300)
		key := keyOf(n)
		tag := tagOf(key)
		switch rng.IntN(3) {
		case 0, 1:
			if _, ok := model[key]; !ok {
				require.Equal(t, -1, s.find(tag, key))
				i := s.insert(tag, key, defaultsIndex, lim, 0)
				s.slots[i].records.tokens = int64(n)
				model[key] = modelEntry{id: int64(n), cold: s.cold[i]}
				require.Equal(t, len(key) > inlineKeyBytes, s.cold[i] != nil, "only long keys need a cold state here")
			}
		default:
			if _, ok := model[key]; ok {
				i := s.find(tag, key)
				require.GreaterOrEqual(t, i, 0)
				s.removeAt(i)
				delete(model, key)
			}
		}
		if op%97 == 0 {
			require.Equal(t, len(model), s.n)
			for k, m := range model {
				i := s.find(tagOf(k), k)
				require.GreaterOrEqual(t, i, 0, "op %d: %s", op, k)
				require.Equal(t, m.id, s.slots[i].records.tokens, "op %d: %s found another key's state", op, k)
				require.Same(t, m.cold, s.cold[i], "op %d: %s lost its cold state", op, k)
				require.Equal(t, k, s.keyAt(i))
			}
			for n := range 300 {
				k := keyOf(n)
				if _, ok := model[k]; !ok {
					require.Equal(t, -1, s.find(tagOf(k), k), "op %d: %s was removed", op, k)
				}
			}
			require.LessOrEqual(t, 2*s.n, len(s.slots), "at most half full")
			used := 0
			for i := range s.slots {
				if s.slots[i].tag != 0 {
					used++
				} else {
					require.Nil(t, s.cold[i], "an empty slot keeps no cold state")
				}
			}
			require.Equal(t, s.n, used)
		}
	}
}

// Keys that share a tag are told apart by the inline bytes, and long keys
// (same first 31 bytes) by the whole key.
func TestSlotComparesWholeKey(t *testing.T) {
	lim := newLimits(1, 1, BytesConfig{}, SeverityConfig{})
	var s shard
	s.init(16)
	const tag = 5
	long := "a-very-long-unit-name-that-does-not-fit-inline@instance-0001.service"
	exact31 := "abcdefghijklmnopqrstuvwxyz01234"
	require.Len(t, exact31, inlineKeyBytes)
	keys := []string{"nginx.service", long, "", exact31}
	idx := map[string]int{}
	for _, k := range keys {
		idx[k] = s.insert(tag, k, defaultsIndex, lim, 0)
	}
	for _, k := range keys {
		require.Equal(t, idx[k], s.find(tag, k), "%q", k)
		require.Equal(t, k, s.keyAt(idx[k]))
	}
	for _, k := range []string{"nginx.servicf", "nginx", "x", long[:len(long)-1] + "x", long[:inlineKeyBytes], exact31 + "5", exact31[:30]} {
		require.Equal(t, -1, s.find(tag, k), "%q is not in the table", k)
	}
	require.Equal(t, -1, s.find(tag+16, "nginx.service"), "same home, other tag")
}

func TestSlotIsOneAlignedCacheLine(t *testing.T) {
	require.Equal(t, uintptr(64), unsafe.Sizeof(slot{}))
	require.Equal(t, uintptr(64), unsafe.Sizeof(shard{}), "a shard header is one line")
	// Power-of-two sizes of 64-byte slots are allocated on 64-byte
	// boundaries, so no entry straddles two lines.
	for _, size := range []int{8, 16, 1024} {
		var s shard
		s.init(size)
		require.Zero(t, uintptr(unsafe.Pointer(&s.slots[0]))%64, "size %d", size)
	}
	tb := newTable(100, newLimitSet(defaultConfig()), 0)
	for i := range 100 {
		s, _, _ := tb.lookup(fmt.Sprintf("key-%d", i), 0)
		s.mu.Unlock()
	}
	for i := range tb.shards {
		require.Zero(t, uintptr(unsafe.Pointer(&tb.shards[i].slots[0]))%64)
	}
}

// A drop count that would wrap its uint32 moves into the cold state, so
// counts stay exact however long the metric and summary intervals are.
func TestDropCountsSpillToColdState(t *testing.T) {
	lim := newLimits(1, 1, BytesConfig{}, SeverityConfig{})
	var s shard
	s.init(8)
	i := s.insert(9, "svc", defaultsIndex, lim, 0)
	require.Nil(t, s.cold[i])
	s.slots[i].unreported = math.MaxUint32 - 1
	s.slots[i].unsummarised = math.MaxUint32 - 1
	for range 3 {
		s.countDrop(i, reasonRate, true)
	}
	require.NotNil(t, s.cold[i])
	require.Equal(t, [numReasons]uint64{reasonRate: math.MaxUint32 + 2}, s.takeUnreported(i))
	require.Equal(t, uint64(math.MaxUint32+2), s.takeUnsummarised(i))
	require.Equal(t, [numReasons]uint64{}, s.takeUnreported(i))
	require.Zero(t, s.takeUnsummarised(i))

	s.countDrop(i, reasonBytes, false)
	s.countDrop(i, reasonSeverityRate, true)
	require.Equal(t, [numReasons]uint64{reasonBytes: 1, reasonSeverityRate: 1}, s.takeUnreported(i))
	require.Equal(t, uint64(1), s.takeUnsummarised(i))
}

// One sweep removes many keys from the same shards, so removals shift
// slots that the sweep has not looked at yet (and some it has): exactly
// the idle keys must go, and the others keep their state.
func TestSweepRemovesExactlyTheIdleKeys(t *testing.T) {
	const keys, idle = 5000, int64(100)
	tb := newTable(keys, newLimitSet(defaultConfig()), 0)
	now := 2 * idle
	for k := range keys {
		s, i, overflowed := tb.lookup(fmt.Sprintf("key-%d", k), 0)
		require.False(t, overflowed)
		if k%3 == 0 {
			s.slots[i].records.last = now // used just now; bucket still full
		}
		s.mu.Unlock()
	}
	busy := (keys + 2) / 3
	require.Equal(t, keys-busy, tb.sweep(now, idle))
	require.EqualValues(t, busy, tb.len())
	for k := range keys {
		key := fmt.Sprintf("key-%d", k)
		require.Equal(t, k%3 == 0, tb.has(key), key)
	}
	n := 0
	tb.each(func(s *shard, i int, overflow bool) {
		if !overflow {
			n++
			require.Equal(t, now, s.slots[i].records.last, s.keyAt(i))
		}
	})
	require.Equal(t, busy, n)
	require.Zero(t, tb.sweep(now, idle), "nothing left to remove")
}

// prefetch starts loading each shard's current slots: when a shard grows,
// the array it publishes is the new one.
func TestPublishedSlotsFollowGrowth(t *testing.T) {
	ls := newLimitSet(defaultConfig())
	tb := newTable(100_000, ls, 0)
	for k := range 20_000 {
		key := fmt.Sprintf("key-%d", k)
		s, _, _ := tb.lookup(key, 0)
		s.mu.Unlock()
		tb.prefetch(tb.hash(key))
	}
	for i := range tb.shards {
		published := *tb.published[i].Load()
		require.Len(t, published, len(tb.shards[i].slots), "shard %d", i)
		require.Equal(t, unsafe.SliceData(tb.shards[i].slots), unsafe.SliceData(published), "shard %d", i)
		require.Greater(t, len(published), 8, "shard %d never grew", i)
	}
}
