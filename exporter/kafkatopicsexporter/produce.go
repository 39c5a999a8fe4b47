package kafkatopicsexporter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
	// reasonShutdown: still in a partition backlog when the exporter shut
	// down (the partition did not recover in time).
	reasonShutdown
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
	case reasonShutdown:
		return "shutdown"
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
	partition        int32          // chosen before producing; -1: by the client
	behind           bool           // not produced: its partition has a backlog
	parked           bool           // left to its partition's backlog
	refused          bool           // its partition's backlog was full
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
	progress chan struct{} // receives (at most one waiting) on each answer
	mu       sync.Mutex
	answered map[*kgo.Record]error    // records whose promise ran, and its error
	promise  func(*kgo.Record, error) // made once: a method value allocates

	// Records the call stopped waiting for, now their backlog's: their
	// answers go there. A batch that handed records off is never reused
	// (the backlog may produce them again from its buffers).
	bl        *backlogs
	handedOff map[*kgo.Record]*parked
	abandoned bool
	acked     bool // Kafka acknowledged a record of this call
}

// Bounds on what a pooled batch keeps between calls.
const (
	maxPooledArena = 8 << 20
	maxTopicsCache = 1024
)

func newBatch(bl *backlogs) *batch {
	b := &batch{
		topics:    make(map[string]string),
		answered:  make(map[*kgo.Record]error),
		allDone:   make(chan struct{}, 1),
		progress:  make(chan struct{}, 1),
		bl:        bl,
		handedOff: make(map[*kgo.Record]*parked),
	}
	b.promise = b.done
	return b
}

// done is the promise of every record of the batch. kgo calls promises one
// at a time, so the lock is uncontended.
func (b *batch) done(r *kgo.Record, err error) {
	b.mu.Lock()
	if p, ok := b.handedOff[r]; ok {
		delete(b.handedOff, r)
		b.mu.Unlock()
		b.bl.answer(p, err)
		b.release()
		return
	}
	b.answered[r] = err
	if err == nil && b.bl != nil && !b.acked {
		b.acked = true
		b.bl.noteAck()
	}
	b.mu.Unlock()
	b.release()
}

func (b *batch) release() {
	if b.pending.Add(-1) == 0 {
		b.allDone <- struct{}{}
		return
	}
	select {
	case b.progress <- struct{}{}:
	default:
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
	b.acked = false
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
	if b.abandoned || b.pending.Load() != 0 {
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
	outcome := e.produceAndWait(ctx, b, func(m *recMeta) bool { return !m.dropped })
	if outcome == waitExpired {
		return e.finish(ctx, b, ld, n, firstEncodeErr)
	}
	// A topic the broker says does not exist (deleted since the topics were
	// last read, or they were never read) would fail the same records
	// forever: send them to the fallback topic instead, as records that
	// matched nothing, and forget the topic, so that later records go there
	// straight and the client stops asking about it.
	//
	// When the call stopped waiting for some records (a failing partition),
	// late answers may still come in: the topics are forgotten, but the
	// records go back for retry (and then to the fallback topic).
	fb := e.router.fallback
	if outcome == waitStalled {
		fb = ""
	}
	var missing map[string]struct{}
	redirect := 0
	b.mu.Lock()
	for i := range b.meta {
		m := &b.meta[i]
		if err, ok := b.answered[&b.recs[i]]; ok && isUnknownTopic(err) && m.topic != e.router.fallback {
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
	b.mu.Unlock()
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
// answers, or for ctx, and says how the wait ended.
//
// With the idempotent producer, kgo cannot fail a record whose request was
// sent but never answered (the broker may have it), so a broker that
// vanished mid-request would hold us forever: stop at the deadline and let
// finish hand the unanswered records back for retry.
//
// With partition backlogs, a record whose partition has a backlog goes
// behind it instead of being produced (finish parks it), and the call
// waits only while answers keep coming: after failing_after without one,
// in a partial failure, the records still unanswered are left to their
// partitions' backlogs, so that one failing partition does not hold the
// others' records (backlog.go).
func (e *kafkaExporter) produceAndWait(ctx context.Context, b *batch, pick func(*recMeta) bool) waitOutcome {
	b.pending.Store(1)
	var redirected int64
	for i := range b.meta {
		m := &b.meta[i]
		if !pick(m) {
			continue
		}
		r := &b.recs[i]
		*r = kgo.Record{Topic: m.topic, Value: b.arena[m.valStart:m.valEnd:m.valEnd], Partition: -1}
		if m.hasKey {
			r.Key = b.arena[m.keyStart:m.keyEnd:m.keyEnd]
		}
		if e.backlog != nil {
			tp := e.parts.topic(m.topic)
			r.Partition = tp.pick(r)
			behind, moved := e.backlog.route(tp, m.topic, r)
			m.partition = r.Partition
			if moved {
				redirected++
			}
			if behind {
				m.behind = true // parked, or handed back, by finish
				continue
			}
		}
		b.pending.Add(1)
		e.client.Produce(ctx, r, b.promise)
	}
	if redirected > 0 {
		e.tel.LogxKafkatopicsRecordsRedirected.Add(ctx, redirected, e.redirected[redirectPartitionFailing])
	}
	b.release()
	if e.backlog == nil {
		select {
		case <-b.allDone:
			return waitAll
		case <-ctx.Done():
			return waitExpired
		}
	}
	// Answers keep coming while the partitions are healthy; once none has
	// come for failing_after, the partitions still unanswered are failing.
	quiet := e.cfg.PartitionBacklog.FailingAfter
	idle := time.NewTimer(quiet)
	defer idle.Stop()
	select { // a stale signal from the pooled batch's last call
	case <-b.progress:
	default:
	}
	for {
		select {
		case <-b.allDone:
			return waitAll
		case <-b.progress:
			idle.Reset(quiet)
		case <-idle.C:
			if e.partialFailure(b) {
				e.handOff(b, pick)
				return waitStalled
			}
			// Nothing answers anywhere: wait as without backlogs (the
			// unanswered records go back to the queue at the deadline).
		case <-ctx.Done():
			return waitExpired
		}
	}
}

// waitOutcome is how produceAndWait ended.
type waitOutcome uint8

const (
	waitAll     waitOutcome = iota // every record answered
	waitStalled                    // failing_after passed; the rest handed off
	waitExpired                    // ctx ended first
)

// partialFailure says whether the records a call waits for may be left to
// backlogs: Kafka acknowledged records of this call, or recently others.
func (e *kafkaExporter) partialFailure(b *batch) bool {
	b.mu.Lock()
	acked := b.acked
	b.mu.Unlock()
	return acked || e.backlog.partial()
}

// handOff leaves the records still unanswered to their partitions'
// backlogs; those that find no room stay unanswered (finish hands them
// back for retry).
func (e *kafkaExporter) handOff(b *batch, pick func(*recMeta) bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.abandoned = true
	for i := range b.meta {
		m := &b.meta[i]
		if !pick(m) || m.behind || m.dropped {
			continue
		}
		r := &b.recs[i]
		if _, answered := b.answered[r]; answered {
			continue
		}
		if p := e.backlog.handOff(tpKey{m.topic, m.partition}, r, m); p != nil {
			b.handedOff[r] = p
			m.parked = true
		}
	}
}

// finish counts and logs the outcome of every record and tells
// exporterhelper what to do with the rest.
func (e *kafkaExporter) finish(ctx context.Context, b *batch, ld plog.Logs, n int, firstEncodeErr error) error {
	b.mu.Lock()
	defer b.mu.Unlock()

	o := e.settleOutcomes(b)
	totalDropped := e.recordOutcomes(ctx, o, n, firstEncodeErr)
	if o.retry > 0 {
		return consumererror.NewLogs(e.retryError(ctx, o, n), b.remaining(ld))
	}
	if totalDropped == int64(n) {
		// Nothing of this request can ever be produced: say so, so that
		// exporterhelper counts it failed and does not retry it.
		return consumererror.NewPermanent(fmt.Errorf("kafkatopics: all %d records dropped (%s)", n, o.firstDrop.reason))
	}
	return nil
}

// outcomes are the outcomes of an export call's records, as finish
// counts, logs and returns them.
type outcomes struct {
	produced                      [numClasses]int64
	redirected                    [numRedirectReasons]int64
	dropped                       [numReasons]int64
	retry, unanswered, refused    int
	backlogged                    int64
	firstRetryErr, firstRejectErr error
	firstDrop                     *recMeta
}

// settleOutcomes (pass 3) decides the outcome of every record of b: produced,
// dropped, left to a backlog or handed back for retry. b.mu is held.
func (e *kafkaExporter) settleOutcomes(b *batch) *outcomes {
	o := &outcomes{}
	partial := e.backlog != nil && (b.acked || e.backlog.partial())
	for i := range b.meta {
		m := &b.meta[i]
		if !m.dropped && e.settleNotDropped(b, i, partial, o) {
			continue
		}
		if m.dropped {
			o.dropped[m.reason]++
			if o.firstDrop == nil {
				o.firstDrop = m
			}
			continue
		}
		o.produced[m.class]++
		if m.class == classFallback {
			o.redirected[m.why]++
		}
	}
	return o
}

// settleNotDropped settles record i, not dropped before Kafka answered:
// parked in a backlog or handed back for retry (it reports true: counted),
// else dropped for good by Kafka's answer, or produced (it reports false).
func (e *kafkaExporter) settleNotDropped(b *batch, i int, partial bool, o *outcomes) bool {
	m := &b.meta[i]
	if m.behind && !m.parked && !m.refused {
		// Behind its partition's backlog, in order; back to the
		// queue when the backlog is full or nothing answers.
		if e.backlog.settleBehind(tpKey{m.topic, m.partition}, &b.recs[i], m, partial) {
			m.parked = true
		} else {
			m.refused = true
		}
	}
	if m.parked {
		o.backlogged++
		return true
	}
	if m.refused {
		m.retry = true
		o.retry++
		o.refused++
		return true
	}
	err, answered := b.answered[&b.recs[i]]
	if !answered {
		m.retry = true
		o.retry++
		o.unanswered++
		return true
	}
	if err != nil {
		if reason, perm := permanentReason(err); perm {
			m.dropped, m.reason = true, reason
			if o.firstRejectErr == nil {
				o.firstRejectErr = err
			}
		} else {
			if partial && e.parkFailed(&b.recs[i], m, err) {
				o.backlogged++
				return true
			}
			m.retry = true
			o.retry++
			if o.firstRetryErr == nil {
				o.firstRetryErr = err
			}
			return true
		}
	}
	return false
}

// recordOutcomes counts the outcomes, wakes the backlogs up for what they
// were left and logs the first drop; it returns the records dropped.
func (e *kafkaExporter) recordOutcomes(ctx context.Context, o *outcomes, n int, firstEncodeErr error) int64 {
	maxMsg := e.cfg.Producer.MaxMessageBytes
	totalDropped := e.count(ctx, o.produced, o.redirected, o.dropped)
	if o.backlogged > 0 {
		e.tel.LogxKafkatopicsRecordsBacklogged.Add(ctx, o.backlogged)
		e.backlog.wakeUp()
	}
	if firstDrop := o.firstDrop; firstDrop != nil {
		e.logger.Warn("kafkatopics: dropping log records that Kafka cannot take; they are not retried",
			zap.Int64("dropped", totalDropped),
			zap.Int("records", n),
			zap.String("reason", firstDrop.reason.String()),
			zap.String("topic", firstDrop.topic),
			zap.Int("message_bytes", (firstDrop.keyEnd-firstDrop.keyStart)+(firstDrop.valEnd-firstDrop.valStart)),
			zap.Int("max_message_bytes", maxMsg),
			zap.NamedError("broker_error", o.firstRejectErr),
			zap.NamedError("encode_error", firstEncodeErr))
	}
	return totalDropped
}

// retryError counts the records handed back for retry and says why they
// were: Kafka's first error, a full backlog, or no answer in time.
func (e *kafkaExporter) retryError(ctx context.Context, o *outcomes, n int) error {
	e.tel.LogxKafkatopicsRecordsRetried.Add(ctx, int64(o.retry))
	firstRetryErr := o.firstRetryErr
	switch {
	case firstRetryErr != nil:
	case o.refused > 0:
		firstRetryErr = fmt.Errorf("%d records wait for a failing partition whose backlog is full (partition_backlog bounds) or while no partition answers", o.refused)
		e.logger.Warn("kafkatopics: handing records of failing partitions back to the queue: their backlog is full, or no partition answers",
			zap.Int("records", o.refused), zap.Int64("backlog_bytes", e.backlog.totalBytesUsed()))
	case ctx.Err() == nil:
		firstRetryErr = fmt.Errorf("%d records unanswered by Kafka and their partition's backlog full", o.unanswered)
	default:
		firstRetryErr = fmt.Errorf("%d records unanswered by Kafka when the export timed out (broker unreachable?): %w", o.unanswered, ctx.Err())
	}
	return fmt.Errorf("kafkatopics: %d of %d records not produced: %w", o.retry, n, firstRetryErr)
}

// count records the outcomes of records, produced and redirected per
// class and reason, dropped per reason; it returns the records dropped.
func (e *kafkaExporter) count(ctx context.Context, produced [numClasses]int64, redirected [numRedirectReasons]int64, dropped [numReasons]int64) int64 {
	for c, v := range produced {
		if v > 0 {
			e.tel.LogxKafkatopicsRecordsProduced.Add(ctx, v, e.produced[c])
		}
	}
	for r, v := range redirected {
		if v > 0 && redirectReason(r) != redirectNone {
			e.tel.LogxKafkatopicsRecordsRedirected.Add(ctx, v, e.redirected[r])
		}
	}
	var total int64
	for r, v := range dropped {
		if v > 0 {
			e.tel.LogxKafkatopicsRecordsDropped.Add(ctx, v, e.dropped[r])
			total += v
		}
	}
	return total
}

// parkFailed leaves a record Kafka failed with a retriable error to its
// partition's backlog, behind what is there: the call need not wait for
// the partition, and the record keeps its place. A topic Kafka does not
// know goes back to the caller (and from there to the fallback topic).
func (e *kafkaExporter) parkFailed(r *kgo.Record, m *recMeta, err error) bool {
	if e.backlog == nil || isUnknownTopic(err) {
		return false
	}
	if e.backlog.park(tpKey{m.topic, r.Partition}, r, m) {
		m.parked = true
		return true
	}
	return false
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
