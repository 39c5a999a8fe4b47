package ratelimitprocessor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/processor/ratelimitprocessor/internal/metadata"
)

// Attributes of a summary record, besides the key's own fields.
const (
	attrSummaryKey      = "ratelimit.key"      // the key as shown in metrics
	attrSummaryDropped  = "ratelimit.dropped"  // records dropped in the interval
	attrSummaryInterval = "ratelimit.interval" // the interval, in seconds
	attrSummaryDryRun   = "ratelimit.dry_run"  // true: nothing was really dropped
)

// summaryTimeout bounds how long a summary may wait for the next consumer.
const summaryTimeout = 5 * time.Second

type keySummary struct {
	key      string
	overflow bool
	n        uint64
	lim      *limits
}

// emitSummaries writes one summary per key that dropped records since the
// last summary, at most summary.max_records: the keys dropping most get
// their own, the rest share one "other keys" summary.
func (r *reporter) emitSummaries(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var sums []keySummary
	r.p.table.each(func(s *shard, i int, overflow bool) {
		n := s.takeUnsummarised(i)
		if n == 0 {
			return
		}
		sums = append(sums, keySummary{key: s.keyAt(i), overflow: overflow, n: n, lim: r.p.limits.all[s.slots[i].lim]})
	})
	now := r.p.clock.Now()
	interval := now.Sub(r.lastSummary)
	r.lastSummary = now
	if len(sums) == 0 {
		return
	}
	sort.Slice(sums, func(i, j int) bool { return sums[i].n > sums[j].n })
	if limit := r.p.cfg.Summary.MaxRecords; len(sums) > limit {
		rest := keySummary{n: 0}
		for _, s := range sums[limit-1:] {
			rest.n += s.n
		}
		rest.key = fmt.Sprintf("%d other keys", len(sums)-(limit-1))
		sums = append(sums[:limit-1], rest)
	}
	if r.p.cfg.Summary.Destination == summaryToLogger {
		for _, s := range sums {
			r.p.logger.Warn(r.summaryText(s, interval),
				zap.String("key", r.summaryKeyLabel(s)), zap.Uint64("dropped", s.n),
				zap.Duration("interval", interval), zap.Bool("dry_run", r.p.dryRun))
		}
		return
	}
	ld := r.summaryLogs(sums, now, interval)
	ctx, cancel := context.WithTimeout(ctx, summaryTimeout)
	defer cancel()
	if err := r.p.next.ConsumeLogs(ctx, ld); err != nil {
		r.p.tel.LogxRatelimitSummaryRecordsDropped.Add(ctx, int64(len(sums)),
			metric.WithAttributes(attribute.String("reason", "refused")))
		r.p.logger.Warn("ratelimit summary records refused by the next consumer", zap.Error(err), zap.Int("records", len(sums)))
	}
}

func (r *reporter) summaryKeyLabel(s keySummary) string {
	switch {
	case s.overflow:
		return overflowKeyLabel
	case s.lim == nil:
		return s.key // the "N other keys" fold
	default:
		return displayKey(s.key)
	}
}

// summaryText is the human sentence: what a service owner reads next to
// the gap in the service's logs.
func (r *reporter) summaryText(s keySummary, interval time.Duration) string {
	verb := "dropped"
	if r.p.dryRun {
		verb = "would have been dropped (dry_run)"
	}
	var who string
	switch {
	case s.overflow:
		who = "keys that found the rate limit's key table full (max_keys)"
	case s.lim == nil:
		who = s.key
	default:
		who = r.fieldsText(s.key)
	}
	text := fmt.Sprintf("%d records %s for %s in the last %s", s.n, verb, who, interval.Round(time.Millisecond))
	if s.lim != nil {
		text += fmt.Sprintf(" (limit %g records/s, burst %d)", s.lim.rate, s.lim.burst)
	}
	return text
}

// fieldsText shows a key as name=value pairs.
func (r *reporter) fieldsText(key string) string {
	vals := strings.Split(key, string(keySep))
	if len(vals) != len(r.p.keys.fields) {
		return "key=" + displayKey(key)
	}
	parts := make([]string, len(vals))
	for i, f := range r.p.keys.fields {
		parts[i] = f.name + "=" + vals[i]
	}
	return strings.Join(parts, " ")
}

// summaryLogs builds the summary records. Each carries the key's fields
// where the limited records had them (resource or record attributes), so
// that it is routed and stored with the service's own records.
func (r *reporter) summaryLogs(sums []keySummary, now time.Time, interval time.Duration) plog.Logs {
	ld := plog.NewLogs()
	ts := pcommon.NewTimestampFromTime(now)
	for _, s := range sums {
		rl := ld.ResourceLogs().AppendEmpty()
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(metadata.ScopeName)
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(ts)
		lr.SetObservedTimestamp(ts)
		lr.SetSeverityNumber(plog.SeverityNumberWarn)
		lr.SetSeverityText("WARN")
		lr.Body().SetStr(r.summaryText(s, interval))
		attrs := lr.Attributes()
		if s.lim != nil && !s.overflow {
			vals := strings.Split(s.key, string(keySep))
			if len(vals) == len(r.p.keys.fields) {
				for i, f := range r.p.keys.fields {
					if f.src == srcResource {
						rl.Resource().Attributes().PutStr(f.name, vals[i])
					} else {
						attrs.PutStr(f.name, vals[i])
					}
				}
			}
		}
		attrs.PutStr(attrSummaryKey, r.summaryKeyLabel(s))
		attrs.PutInt(attrSummaryDropped, int64(s.n)) //nolint:gosec // G115: a count of dropped records in one summary interval
		attrs.PutDouble(attrSummaryInterval, interval.Seconds())
		attrs.PutBool(attrSummaryDryRun, r.p.dryRun)
	}
	return ld
}
