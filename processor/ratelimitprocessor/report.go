package ratelimitprocessor

import (
	"context"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Values of the drop counter's key attribute that are not keys.
const (
	otherKeyLabel    = "other"     // keys beyond metrics.top_keys
	overflowKeyLabel = "_overflow" // the shared bucket of a full table
)

// reporter turns the entries' drop counts into metrics and summaries. Its
// jobs run on the background schedule (and at shutdown), never per record.
type reporter struct {
	p *rateLimiter

	mu          sync.Mutex          // one flush or summary at a time
	labelled    map[string]struct{} // keys that have their own key attribute value, at most top_keys
	lastSummary time.Time
}

func newReporter(p *rateLimiter) reporter {
	return reporter{p: p, labelled: make(map[string]struct{}), lastSummary: p.epoch}
}

type keyDrops struct {
	key      string
	overflow bool
	n        [numReasons]uint64
	total    uint64
}

// flushMetrics adds the drops counted since the last flush to the drop
// counter. A key gets its own value of the key attribute if it already has
// one, or if fewer than top_keys keys have one (the keys dropping most in
// this interval first); every other key is counted as "other". So the
// counter has at most (top_keys + 2) × reasons series, for ever.
func (r *reporter) flushMetrics(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var drops []keyDrops
	r.p.table.each(func(s *shard, i int, overflow bool) {
		n := s.takeUnreported(i)
		if n == ([numReasons]uint64{}) {
			return
		}
		d := keyDrops{key: s.keyAt(i), overflow: overflow, n: n}
		for _, c := range n {
			d.total += c
		}
		drops = append(drops, d)
	})
	if len(drops) == 0 {
		return
	}
	sort.Slice(drops, func(i, j int) bool { return drops[i].total > drops[j].total })
	sums := map[string]*[numReasons]uint64{}
	topKeys := r.p.cfg.Metrics.TopKeys
	for _, d := range drops {
		label := otherKeyLabel
		switch {
		case d.overflow:
			label = overflowKeyLabel
		default:
			shown := displayKey(d.key)
			if _, ok := r.labelled[shown]; ok {
				label = shown
			} else if len(r.labelled) < topKeys {
				r.labelled[shown] = struct{}{}
				label = shown
			}
		}
		s := sums[label]
		if s == nil {
			s = new([numReasons]uint64)
			sums[label] = s
		}
		for i := range s {
			s[i] += d.n[i]
		}
	}
	dry := attribute.Bool("dry_run", r.p.dryRun)
	for label, s := range sums {
		for i, n := range s {
			if n == 0 {
				continue
			}
			r.p.tel.LogxRatelimitRecordsDropped.Add(ctx, int64(n), metric.WithAttributes( //nolint:gosec // G115: a count of dropped records in one report interval
				attribute.String("key", label), attribute.String("reason", reasonNames[i]), dry))
		}
	}
}
