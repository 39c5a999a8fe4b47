package ratelimitprocessor

import (
	"math"
	"math/bits"
)

// tokenUnit is one token in the buckets' fixed-point arithmetic. Integers
// keep drop counts exact (no float rounding drifts a count by one) and the
// bucket state in two words.
const tokenUnit = 1_000_000_000

// limit is the immutable shape of a token bucket: how fast it refills and
// how much it holds.
type limit struct {
	rateMilli uint64 // refill in tokens per 1000 s, i.e. rate × 1000
	capacity  int64  // burst × tokenUnit
	fillNs    int64  // nanoseconds to refill from empty to full
}

func newLimit(rate float64, burst int64) limit {
	l := limit{rateMilli: uint64(math.Round(rate * 1000)), capacity: burst * tokenUnit}
	if l.rateMilli == 0 {
		l.rateMilli = 1
	}
	// fillNs = ceil(capacity × 1000 / rateMilli); capacity × 1000 can exceed
	// 64 bits for large byte bursts, hence the 128-bit product.
	hi, lo := bits.Mul64(uint64(l.capacity), 1000) //nolint:gosec // G115: Validate keeps the capacity positive
	if hi >= l.rateMilli {
		l.fillNs = math.MaxInt64
	} else {
		q, r := bits.Div64(hi, lo, l.rateMilli)
		if r != 0 {
			q++
		}
		if q > math.MaxInt64 {
			q = math.MaxInt64
		}
		l.fillNs = int64(q)
	}
	return l
}

// bucket is the mutable state of one token bucket: tokens held at time last
// (nanoseconds on the processor's clock). The caller serialises access.
type bucket struct {
	tokens int64
	last   int64
}

func fullBucket(l *limit, now int64) bucket { return bucket{tokens: l.capacity, last: now} }

// refill adds the tokens earned since last. Time that runs backwards (a
// batch stamped before the previous one) earns nothing.
func (b *bucket) refill(l *limit, now int64) {
	elapsed := now - b.last
	if elapsed <= 0 {
		return
	}
	b.last = now
	if elapsed >= l.fillNs {
		b.tokens = l.capacity
		return
	}
	// elapsed < fillNs, so elapsed × rateMilli / 1000 < capacity + rate and
	// the quotient fits; the product may not fit 64 bits.
	hi, lo := bits.Mul64(uint64(elapsed), l.rateMilli)
	add := lo / 1000 // by a constant: a multiplication, not a 128-bit divide
	if hi != 0 {
		add, _ = bits.Div64(hi, lo, 1000)
	}
	b.tokens += int64(add) //nolint:gosec // G115: add < capacity + rate (above), which fits an int64
	if b.tokens > l.capacity {
		b.tokens = l.capacity
	}
}

// has reports whether cost tokens (in units) are available after refill.
func (b *bucket) has(l *limit, now, cost int64) bool {
	b.refill(l, now)
	return b.tokens >= cost
}

// fullAt reports whether the bucket would be full at now, without changing it.
func (b bucket) fullAt(l *limit, now int64) bool {
	b.refill(l, now)
	return b.tokens >= l.capacity
}
