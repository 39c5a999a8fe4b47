package externaljsonprocessor

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/processor/externaljsonprocessor/internal/metadata"
)

// source is one configured source: its fetcher, its mapping and its last
// good values. Only its own goroutine fetches; the mutex guards the state
// against the rebuild, the age gauge and Start.
type source struct {
	cfg        SourceConfig // resolved (defaults filled in)
	p          *enricher
	fetcher    fetcher
	mapping    *mapping
	staleField field
	attrs      metric.MeasurementOption // source=<name>

	mu      sync.Mutex
	hasGood bool
	good    []field   // prepared from the last good response
	goodRaw []byte    // that response, for persistence
	goodAt  time.Time // when it was fetched (or confirmed by a 304)
	etag    string
	stale   bool
	// failReason and failures describe the current run of failures: only
	// its first failure (or a change of reason) is logged at error level.
	failReason string
	failures   int
	// skippedKeys are the reserved names the last accepted response held
	// (joined): a warning is logged only when they change.
	skippedKeys string
}

func newSource(p *enricher, cfg SourceConfig) *source {
	cfg = cfg.resolved()
	textKey := ""
	if cfg.Command != nil {
		textKey = cfg.Command.TextKey
	}
	return &source{
		cfg:        cfg,
		p:          p,
		mapping:    newMapping(cfg.Mapping, textKey).requiring(cfg.Guard.RequiredPaths),
		staleField: newField(cfg.StaleAttribute, pcommon.NewValueBool(true), policyUpsert),
		attrs:      metric.WithAttributes(metadata.SourceAttr(cfg.Name)),
	}
}

func (s *source) logger() *zap.Logger { return s.p.logger.With(zap.String("source", s.cfg.Name)) }

// restore installs persisted values at start-up, after the same checks as a
// fresh response. Their age is their original fetch time.
func (s *source) restore(ctx context.Context, st persistedState) *fetchError {
	fields, skipped, ferr := s.mapping.decode(st.Body)
	if ferr != nil {
		return ferr
	}
	s.mu.Lock()
	s.hasGood, s.good, s.goodRaw, s.goodAt, s.etag, s.stale = true, fields, st.Body, st.FetchedAt, st.ETag, false
	s.mu.Unlock()
	s.reportSkipped(ctx, skipped)
	return nil
}

// refresh fetches once and updates the state: new values on success, the
// last good ones (possibly going stale) on failure.
func (s *source) refresh(ctx context.Context) {
	s.mu.Lock()
	etag := s.etag
	s.mu.Unlock()

	res, ferr := s.fetcher.fetch(ctx, etag)
	var fields []field
	var skipped skippedNames
	if ferr == nil && !res.notModified {
		fields, skipped, ferr = s.mapping.decode(res.body)
		if ferr == nil {
			ferr = s.checkShrink(fields)
		}
	}
	now := s.p.now()
	if ferr != nil {
		if ctx.Err() != nil {
			return // shutting down: not a failure of the source
		}
		s.p.tel.LogxExternaljsonFetchFailures.Add(ctx, 1, metric.WithAttributes(metadata.SourceAttr(s.cfg.Name), metadata.ReasonAttr(ferr.reason)))
		s.logFailure(ferr, now)
		if s.evaluateStale(now) {
			s.p.rebuild()
		}
		return
	}

	s.mu.Lock()
	if res.notModified {
		if !s.hasGood {
			// A 304 for an ETag we no longer hold values for cannot happen
			// (the ETag is only kept with its values); be safe anyway.
			s.etag = ""
			s.mu.Unlock()
			return
		}
	} else {
		s.good, s.goodRaw, s.etag, s.hasGood = fields, res.body, res.etag, true
	}
	wasStale, failures := s.stale, s.failures
	s.goodAt, s.stale, s.failReason, s.failures = now, false, "", 0
	st := persistedState{FetchedAt: now, ETag: s.etag, Body: s.goodRaw}
	s.mu.Unlock()

	s.p.tel.LogxExternaljsonFetchSuccesses.Add(ctx, 1, s.attrs)
	if !res.notModified {
		s.reportSkipped(ctx, skipped)
	}
	if failures > 0 {
		s.logger().Info("externaljson: fetch succeeded again", zap.Int("failures_before", failures), zap.Bool("was_stale", wasStale))
	}
	if !res.notModified || wasStale {
		s.p.rebuild()
	}
	s.p.persist(s.cfg.Name, st)
}

// checkShrink refuses fields that lost more than guard.max_field_loss of the
// last good response's attributes. Loss is by name, so a response whose
// attributes were all renamed has lost them all. Without last good values
// there is nothing to compare with.
func (s *source) checkShrink(fields []field) *fetchError {
	maxLoss := *s.cfg.Guard.MaxFieldLoss
	if maxLoss >= 1 {
		return nil // switched off
	}
	s.mu.Lock()
	good := s.good // replaced on success, never mutated: safe to read unlocked
	s.mu.Unlock()
	return shrinkRefusal(good, fields, maxLoss)
}

// shrinkRefusal compares a response's fields with the last good ones.
func shrinkRefusal(good, fields []field, maxLoss float64) *fetchError {
	if len(good) == 0 {
		return nil
	}
	have := make(map[string]bool, len(fields))
	for i := range fields {
		have[fields[i].key] = true
	}
	had := make(map[string]bool, len(good))
	var lost []string
	for i := range good {
		k := good[i].key
		if had[k] {
			continue
		}
		had[k] = true
		if !have[k] {
			lost = append(lost, k)
		}
	}
	// The epsilon keeps e.g. 0.29 of 100 at 29 despite binary fractions.
	allowed := int(math.Floor(maxLoss*float64(len(had)) + 1e-9))
	if len(lost) <= allowed {
		return nil
	}
	kept := len(had) - len(lost)
	return refuse(reasonShrunk, "the response keeps %d of the last good %d fields, with %d new (lost: %s); guard.max_field_loss %v allows losing at most %d. If the source changed its shape on purpose, set guard.max_field_loss: 1 until the new shape is taken",
		kept, len(had), len(fields)-kept, listSome(lost, 8), maxLoss, allowed)
}

// listSome joins up to n names, saying how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}

// reportSkipped counts the reserved names an accepted response held and
// warns when they differ from the previous response's (the counter has
// every repeat).
func (s *source) reportSkipped(ctx context.Context, skipped skippedNames) {
	joined := strings.Join(skipped.names, ",")
	s.mu.Lock()
	changed := joined != s.skippedKeys
	s.skippedKeys = joined
	s.mu.Unlock()
	if skipped.count == 0 {
		return
	}
	s.p.tel.LogxExternaljsonFieldsSkipped.Add(ctx, int64(skipped.count), metric.WithAttributes(metadata.SourceAttr(s.cfg.Name), metadata.ReasonAttr(skipReserved)))
	if changed {
		s.logger().Warn("externaljson: the response holds reserved attribute names, which other components key on; they are skipped. To let this source set one, list it in mapping.allow_reserved",
			zap.Strings("skipped", skipped.names), zap.Int("skipped_count", skipped.count))
	}
}

// logFailure logs the first failure of a run, and any change of reason, at
// error level; repeats of the same failure go to debug (the failure counter
// has them all), so a source that is down does not flood the log.
func (s *source) logFailure(ferr *fetchError, now time.Time) {
	s.mu.Lock()
	hasGood, goodAt := s.hasGood, s.goodAt
	repeat := s.failReason == ferr.reason
	s.failReason = ferr.reason
	s.failures++
	failures := s.failures
	s.mu.Unlock()
	keeping := "no values yet: records pass without this source's fields"
	if hasGood {
		keeping = "keeping the last good values, fetched " + now.Sub(goodAt).Round(time.Millisecond).String() + " ago"
	}
	log := s.logger().Error
	if repeat {
		log = s.logger().Debug
	}
	log("externaljson: fetch failed or response refused; "+keeping,
		zap.String("reason", ferr.reason), zap.Error(ferr.err), zap.Int("failures_in_a_row", failures))
}

// evaluateStale marks the values stale once they are older than max_age and
// reports whether that changed anything the hot path sees.
func (s *source) evaluateStale(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hasGood || s.stale || s.cfg.MaxAge <= 0 || now.Sub(s.goodAt) <= s.cfg.MaxAge {
		return false
	}
	s.stale = true
	s.logger().Warn("externaljson: values are older than max_age; applying stale_policy",
		zap.Duration("max_age", s.cfg.MaxAge), zap.String("stale_policy", s.cfg.StalePolicy), zap.Time("fetched_at", s.goodAt))
	return s.cfg.StalePolicy != staleKeep
}

// untilStale is how long until the current values go stale (ok false: never).
func (s *source) untilStale(now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hasGood || s.stale || s.cfg.MaxAge <= 0 {
		return 0, false
	}
	return max(0, s.goodAt.Add(s.cfg.MaxAge).Sub(now)+time.Millisecond), true
}

// effective is what this source contributes to the field set now.
func (s *source) effective() []field {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hasGood {
		return nil
	}
	if s.stale {
		switch s.cfg.StalePolicy {
		case staleRemove:
			return nil
		case staleMark:
			return append(slices.Clip(s.good), s.staleField)
		}
	}
	return s.good
}

// age reports the age of the current values (ok false: none yet).
func (s *source) age(now time.Time) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Sub(s.goodAt), s.hasGood
}

// goodFieldCount and goodSize are what the last good response used of
// mapping.max_fields and max_size (the guard utilization).
func (s *source) goodFieldCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.good))
}

func (s *source) goodSize() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.goodRaw))
}

// run fetches at once, signals firstDone, then every interval (+ jitter),
// waking in between when the values are due to go stale.
func (s *source) run(ctx context.Context, firstDone chan<- struct{}) {
	s.refresh(ctx)
	s.p.refreshed(s.cfg.Name)
	close(firstDone)

	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	nextFetch := time.Now().Add(s.nextInterval())
	for {
		wait := time.Until(nextFetch)
		if d, ok := s.untilStale(s.p.now()); ok && d < wait {
			wait = d
		}
		timer.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if time.Now().Before(nextFetch) {
			if s.evaluateStale(s.p.now()) {
				s.p.rebuild()
			}
			continue
		}
		s.refresh(ctx)
		s.p.refreshed(s.cfg.Name)
		nextFetch = time.Now().Add(s.nextInterval())
	}
}

func (s *source) nextInterval() time.Duration {
	d := s.cfg.Interval
	if s.cfg.Jitter > 0 {
		d += rand.N(s.cfg.Jitter) //nolint:gosec // G404: jitter to spread fetches, not a secret
	}
	return d
}
