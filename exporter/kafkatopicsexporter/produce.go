package kafkatopicsexporter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
)

// dropReason is the reason attribute of records_dropped.
type dropReason uint8

const (
	// reasonTooLarge: key + value over producer.max_message_bytes; never sent.
	reasonTooLarge dropReason = iota
	// reasonRejectedTooLarge: the client or the broker refused the record
	// as too large (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE).
	reasonRejectedTooLarge
	// reasonRejectedInvalid: the broker refused the record or its topic as
	// invalid; sending it again cannot succeed.
	reasonRejectedInvalid
	// reasonEncode: the record could not be encoded.
	reasonEncode
	// reasonNotAllowed: the topic is not in topics.allowed and there is no
	// fallback topic.
	reasonNotAllowed
	// reasonUnknownTopic: the topic does not exist and there is no
	// fallback topic.
	reasonUnknownTopic
	numReasons
)

func (r dropReason) String() string {
	switch r {
	case reasonTooLarge:
		return "too_large"
	case reasonRejectedTooLarge:
		return "rejected_too_large"
	case reasonRejectedInvalid:
		return "rejected_invalid"
	case reasonNotAllowed:
		return "not_allowed"
	case reasonUnknownTopic:
		return "unknown_topic"
	default:
		return "encode_error"
	}
}

// permanentReason says whether a produce error can never succeed on retry,
// and why. Everything else (broker down, leader moving, timeouts, auth
// not yet granted) goes back to the queue: at-least-once wins over loss.
func permanentReason(err error) (dropReason, bool) {
	switch {
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return reasonRejectedTooLarge, true
	case errors.Is(err, kerr.InvalidRecord), errors.Is(err, kerr.CorruptMessage),
		errors.Is(err, kerr.InvalidTopicException), errors.Is(err, kerr.InvalidRequiredAcks):
		return reasonRejectedInvalid, true
	}
	return 0, false
}

// recMeta is what pass 1 learnt about one record.
type recMeta struct {
	topic            string
	keyStart, keyEnd int
	valStart, valEnd int
	hasKey           bool
	class            topicClass
	dropped          bool
	reason           dropReason
	retry            bool
	redirect         bool           // sent again, to the fallback topic
	why              redirectReason // why it is in the fallback topic
}

// batch holds the buffers of one pushLogs call; pooled, so that a steady
// stream of calls allocates nothing per record once the buffers have grown.
type batch struct {
	arena   []byte // every key and value of the call, back to back
	scratch []byte // one topic name while it is rendered
	meta    []recMeta
	recs    []kgo.Record
	topics  map[string]string // interned topic names

	pending  atomic.Int64  // promises still to run, +1 while producing
	allDone  chan struct{} // receives once pending reaches 0
	mu       sync.Mutex
	answered map[*kgo.Record]error    // records whose promise ran, and its error
	promise  func(*kgo.Record, error) // made once: a method value allocates
}

// Bounds on what a pooled batch keeps between calls.
const (
	maxPooledArena = 8 << 20
	maxTopicsCache = 1024
)

func newBatch() *batch {
	b := &batch{
		topics:   make(map[string]string),
		answered: make(map[*kgo.Record]error),
		allDone:  make(chan struct{}, 1),
	}
	b.promise = b.done
	return b
}

// done is the promise of every record of the batch. kgo calls promises one
// at a time, so the lock is uncontended.
func (b *batch) done(r *kgo.Record, err error) {
	b.mu.Lock()
	b.answered[r] = err
	b.mu.Unlock()
	b.release()
}

func (b *batch) release() {
	if b.pending.Add(-1) == 0 {
		b.allDone <- struct{}{}
	}
}

func (b *batch) reset(n int) {
	b.arena = b.arena[:0]
	b.meta = b.meta[:0]
	if cap(b.recs) < n {
		b.recs = make([]kgo.Record, n)
	}
	b.recs = b.recs[:n]
	clear(b.answered)
}

// intern returns topic as a string, allocating only for a name this batch
// has not seen yet.
func (b *batch) intern(topic []byte) string {
	if s, ok := b.topics[string(topic)]; ok {
		return s
	}
	if len(b.topics) >= maxTopicsCache {
		clear(b.topics)
	}
	s := string(topic)
	b.topics[s] = s
	return s
}

func (e *kafkaExporter) putBatch(b *batch) {
	if b.pending.Load() != 0 {
		// Abandoned at the deadline: kgo still holds its records, which
		// point into the arena. Leave it to the garbage collector.
		return
	}
	select {
	case <-b.allDone: // finished just as the deadline passed: drain
	default:
	}
	clear(b.recs) // drop references to topics and kgo's bookkeeping
	if cap(b.arena) > maxPooledArena {
		b.arena = nil
	}
	e.batches.Put(b)
}

// pushLogs produces every record of ld and waits for Kafka's answers.
//
// Outcome: records acknowledged are counted per class; records that can
// never be produced (too large, invalid) are counted per reason, logged
// and dropped; records that failed with a retriable error are returned in
// a consumererror.Logs, so that exporterhelper's retry and queue send only
// those again. Delivery is at-least-once: a record the broker stored but
// whose acknowledgement was lost is sent again.
func (e *kafkaExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	n := ld.LogRecordCount()
	if n == 0 {
		return nil
	}
	b := e.batches.Get().(*batch)
	defer e.putBatch(b)
	b.reset(n)

	firstEncodeErr := e.render(b, ld)

	// Pass 2: produce. The arena no longer grows, so slices of it are
	// stable until every promise has run.
	if !e.produceAndWait(ctx, b, func(m *recMeta) bool { return !m.dropped }) {
		return e.finish(ctx, b, ld, n, firstEncodeErr)
	}
	// A topic the broker says does not exist (deleted since the topics were
	// last read, or they were never read) would fail the same records
	// forever: send them to the fallback topic instead, as records that
	// matched nothing, and forget the topic, so that later records go there
	// straight and the client stops asking about it.
	fb := e.router.fallback
	var missing map[string]struct{}
	redirect := 0
	for i := range b.meta {
		m := &b.meta[i]
		if err, ok := b.answered[&b.recs[i]]; ok && isUnknownTopic(err) && m.topic != fb {
			if missing == nil {
				missing = make(map[string]struct{})
			}
			missing[m.topic] = struct{}{}
			if fb != "" {
				m.topic, m.class, m.redirect, m.why = fb, classFallback, true, redirectUnknownTopic
				delete(b.answered, &b.recs[i])
				redirect++
			}
		}
	}
	e.forgetMissing(slices.Collect(maps.Keys(missing)))
	if redirect > 0 {
		e.produceAndWait(ctx, b, func(m *recMeta) bool { return m.redirect })
	}
	return e.finish(ctx, b, ld, n, firstEncodeErr)
}

// render is pass 1: every record's topic, key and value, into the batch's
// buffers. It returns the first encoding error, if any.
func (e *kafkaExporter) render(b *batch, ld plog.Logs) error {
	maxMsg := e.cfg.Producer.MaxMessageBytes
	var firstEncodeErr error

	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		resAttrs := rl.Resource().Attributes()
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				rec := lrs.At(k)
				attrs := rec.Attributes()
				dl := deadLetterFor(attrs)
				var m recMeta
				b.scratch, m.class = e.router.topic(b.scratch, attrs, resAttrs, dl != "")
				e.checkTopic(b, &m)
				if e.router.key != nil {
					m.hasKey = true
					m.keyStart = len(b.arena)
					b.arena, _ = e.router.key.Append(b.arena, attrs, resAttrs)
					m.keyEnd = len(b.arena)
				}
				m.valStart = len(b.arena)
				var err error
				b.arena, err = e.enc.appendValue(b.arena, rl, sl, rec, dl)
				m.valEnd = len(b.arena)
				switch {
				case err != nil:
					m.dropped, m.reason = true, reasonEncode
					if firstEncodeErr == nil {
						firstEncodeErr = err
					}
				case (m.keyEnd-m.keyStart)+(m.valEnd-m.valStart) > maxMsg:
					m.dropped, m.reason = true, reasonTooLarge
				}
				b.meta = append(b.meta, m)
			}
		}
	}
	return firstEncodeErr
}

// checkTopic makes the rendered topic (in b.scratch) the record's, unless
// it may not be produced to: then the record goes to the fallback topic,
// or is dropped if there is none. The topic of a record that goes
// elsewhere never reaches the client.
func (e *kafkaExporter) checkTopic(b *batch, m *recMeta) {
	if m.class == classFallback {
		m.why = redirectUnroutable
		m.topic = e.router.fallback
		return
	}
	why := e.router.check(b.scratch, &e.known)
	switch {
	case why == redirectNone:
		m.topic = b.intern(b.scratch)
	case e.router.fallback != "":
		m.topic, m.class, m.why = e.router.fallback, classFallback, why
	default:
		m.topic = b.intern(b.scratch)
		m.dropped, m.reason = true, reasonNotAllowed
		if why == redirectUnknownTopic {
			m.reason = reasonUnknownTopic
		}
	}
}

// produceAndWait produces the records pick chooses and waits for their
// answers, or for ctx. It reports whether every answer came.
//
// With the idempotent producer, kgo cannot fail a record whose request was
// sent but never answered (the broker may have it), so a broker that
// vanished mid-request would hold us forever: stop at the deadline and let
// finish hand the unanswered records back for retry.
func (e *kafkaExporter) produceAndWait(ctx context.Context, b *batch, pick func(*recMeta) bool) bool {
	b.pending.Store(1)
	for i := range b.meta {
		m := &b.meta[i]
		if !pick(m) {
			continue
		}
		r := &b.recs[i]
		*r = kgo.Record{Topic: m.topic, Value: b.arena[m.valStart:m.valEnd:m.valEnd]}
		if m.hasKey {
			r.Key = b.arena[m.keyStart:m.keyEnd:m.keyEnd]
		}
		b.pending.Add(1)
		e.client.Produce(ctx, r, b.promise)
	}
	b.release()
	select {
	case <-b.allDone:
		return true
	case <-ctx.Done():
		return false
	}
}

// finish counts and logs the outcome of every record and tells
// exporterhelper what to do with the rest.
func (e *kafkaExporter) finish(ctx context.Context, b *batch, ld plog.Logs, n int, firstEncodeErr error) error {
	maxMsg := e.cfg.Producer.MaxMessageBytes
	var firstDrop *recMeta
	b.mu.Lock()
	defer b.mu.Unlock()

	// Pass 3: outcomes.
	var produced [numClasses]int64
	var redirected [numRedirectReasons]int64
	var dropped [numReasons]int64
	var retry, unanswered int
	var firstRetryErr, firstRejectErr error
	for i := range b.meta {
		m := &b.meta[i]
		if !m.dropped {
			err, answered := b.answered[&b.recs[i]]
			if !answered {
				m.retry = true
				retry++
				unanswered++
				continue
			}
			if err != nil {
				if reason, perm := permanentReason(err); perm {
					m.dropped, m.reason = true, reason
					if firstRejectErr == nil {
						firstRejectErr = err
					}
				} else {
					m.retry = true
					retry++
					if firstRetryErr == nil {
						firstRetryErr = err
					}
					continue
				}
			}
		}
		if m.dropped {
			dropped[m.reason]++
			if firstDrop == nil {
				firstDrop = m
			}
			continue
		}
		produced[m.class]++
		if m.class == classFallback {
			redirected[m.why]++
		}
	}
	for c, v := range produced {
		if v > 0 {
			e.tel.RecordsProduced.Add(ctx, v, e.produced[c])
		}
	}
	for r, v := range redirected {
		if v > 0 && redirectReason(r) != redirectNone {
			e.tel.RecordsRedirected.Add(ctx, v, e.redirected[r])
		}
	}
	var totalDropped int64
	for r, v := range dropped {
		if v > 0 {
			e.tel.RecordsDropped.Add(ctx, v, e.dropped[r])
			totalDropped += v
		}
	}
	if firstDrop != nil {
		e.logger.Warn("kafkatopics: dropping log records that Kafka cannot take; they are not retried",
			zap.Int64("dropped", totalDropped),
			zap.Int("records", n),
			zap.String("reason", firstDrop.reason.String()),
			zap.String("topic", firstDrop.topic),
			zap.Int("message_bytes", (firstDrop.keyEnd-firstDrop.keyStart)+(firstDrop.valEnd-firstDrop.valStart)),
			zap.Int("max_message_bytes", maxMsg),
			zap.NamedError("broker_error", firstRejectErr),
			zap.NamedError("encode_error", firstEncodeErr))
	}

	if retry > 0 {
		e.tel.RecordsRetried.Add(ctx, int64(retry))
		if firstRetryErr == nil {
			firstRetryErr = fmt.Errorf("%d records unanswered by Kafka when the export timed out (broker unreachable?): %w", unanswered, ctx.Err())
		}
		err := fmt.Errorf("kafkatopics: %d of %d records not produced: %w", retry, n, firstRetryErr)
		return consumererror.NewLogs(err, b.remaining(ld))
	}
	if totalDropped == int64(n) {
		// Nothing of this request can ever be produced: say so, so that
		// exporterhelper counts it failed and does not retry it.
		return consumererror.NewPermanent(fmt.Errorf("kafkatopics: all %d records dropped (%s)", n, firstDrop.reason))
	}
	return nil
}

// remaining copies the records marked for retry into new logs, keeping
// their resource and scope, in their original order.
func (b *batch) remaining(ld plog.Logs) plog.Logs {
	out := plog.NewLogs()
	idx := 0
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		var outRL plog.ResourceLogs
		haveRL := false
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			var outSL plog.ScopeLogs
			haveSL := false
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				if !b.meta[idx].retry {
					idx++
					continue
				}
				idx++
				if !haveRL {
					outRL = out.ResourceLogs().AppendEmpty()
					rl.Resource().CopyTo(outRL.Resource())
					outRL.SetSchemaUrl(rl.SchemaUrl())
					haveRL = true
				}
				if !haveSL {
					outSL = outRL.ScopeLogs().AppendEmpty()
					sl.Scope().CopyTo(outSL.Scope())
					outSL.SetSchemaUrl(sl.SchemaUrl())
					haveSL = true
				}
				lrs.At(k).CopyTo(outSL.LogRecords().AppendEmpty())
			}
		}
	}
	return out
}
