package ingest

import "go.opentelemetry.io/collector/pdata/plog"

// Group commit: when the sender takes the next batch and more are already
// waiting behind it, it merges them into one ConsumeLogs call. A consumer
// whose cost is per call rather than per record (a persistent queue that
// syncs the disk once per request it is given) then gets bigger requests
// the further it falls behind, instead of the buffer overflowing; at low
// load nothing waits, since the sender only takes what is already there.
//
// The bounds of one merged request (its first batch is taken whole even
// if it alone passes them):
//   - MaxMergeRecords: eight full reader batches (MaxBatchRecords). At a
//     disk sync of 5-10 ms that carries 800k-1.6M records/s, far beyond
//     what the pipeline behind the receiver handles, so a bigger request
//     would not deliver faster; it would only make one queue entry (one
//     storage transaction), one refusal or one drop_oldest eviction
//     bigger.
//   - MaxMergeBytes: 8 MiB of what counts against the buffer bound, the
//     parsed form included (recordcost.go), and never more than half
//     the buffer (maxMergeBytes).
const (
	MaxMergeRecords = 8 * MaxBatchRecords
	MaxMergeBytes   = 8 << 20
)

// popGroupLocked takes the oldest held batch and, unless it is a retry
// (retried as it is), the batches right behind it while the group stays
// within the merge bounds. They all stay counted in held until released.
func (s *Stage) popGroupLocked() []Batch {
	first := s.popLocked()
	group := append(s.group[:0], first)
	if first.retry {
		s.group = group
		return group
	}
	records, size := first.Records, first.Size+first.ParsedSize
	maxBytes := s.maxMergeBytes()
	for s.first != nil {
		b := &s.first.b
		if b.retry || records+b.Records > MaxMergeRecords || size+b.Size+b.ParsedSize > maxBytes {
			break
		}
		records += b.Records
		size += b.Size + b.ParsedSize
		group = append(group, s.popLocked())
	}
	s.group = group
	return group
}

// maxMergeBytes bounds a merged request to MaxMergeBytes and to half the
// buffer, parsed form included: the request being delivered (or retried)
// is no service's to evict, so were it to take the whole bound, a quiet
// service arriving meanwhile would find nothing it may evict and lose its
// line. With at most half taken, either half is free or what is queued
// beside the request is at least the rest, mostly the largest holder's.
func (s *Stage) maxMergeBytes() int64 {
	return min(MaxMergeBytes, s.cfg.MaxBytes/2)
}

// merge builds every batch of a group (outside the lock: parsing is the
// heavy part) and moves their resource logs into the first one's Logs
// (moveResources), so records of different sources never share a
// resource. The merged batch counts the group's bytes and records and ends
// every batch's Done, in order. group is cleared for reuse.
func merge(group []Batch) Batch {
	m := group[0]
	m.build()
	if len(group) == 1 {
		group[0] = Batch{}
		return m
	}
	// Receivers set no Done: then nothing is allocated for them; nor
	// parts while the group is of one service.
	dones := m.appendDones(nil)
	m.Done, m.dones = nil, nil
	parts := m.parts
	dst := m.Logs.ResourceLogs()
	for i := 1; i < len(group); i++ {
		b := &group[i]
		b.build()
		moveResources(b.Logs.ResourceLogs(), dst)
		if parts == nil && b.Key != m.Key {
			parts = append(make([]part, 0, 4), part{m.Key, m.Records})
		}
		if parts != nil {
			parts = b.appendParts(parts)
		}
		m.Size += b.Size
		m.ParsedSize += b.ParsedSize
		m.Records += b.Records
		dones = b.appendDones(dones)
	}
	clear(group)
	m.dones, m.parts = dones, parts
	return m
}

// moveResources moves src's resource logs to the end of dst. One whose
// resource and scope are those at the end of dst gives its records to
// them instead of coming as one more resource: when services interleave,
// a reader hands a batch per line (a batch holds one service), all with
// the same resource, and every consumer downstream (processors that work
// per resource, the exporters' encoders) would walk a resource and a scope
// per line. Records keep their order either way.
func moveResources(src, dst plog.ResourceLogsSlice) {
	for i := range src.Len() {
		rl := src.At(i)
		if n := dst.Len(); n > 0 && sameResource(dst.At(n-1), rl) {
			moveScopes(rl.ScopeLogs(), dst.At(n-1).ScopeLogs())
			continue
		}
		rl.MoveTo(dst.AppendEmpty())
	}
}

// moveScopes is moveResources one level down.
func moveScopes(src, dst plog.ScopeLogsSlice) {
	for i := range src.Len() {
		sl := src.At(i)
		if n := dst.Len(); n > 0 && sameScope(dst.At(n-1), sl) {
			sl.LogRecords().MoveAndAppendTo(dst.At(n - 1).LogRecords())
			continue
		}
		sl.MoveTo(dst.AppendEmpty())
	}
}

func sameResource(a, b plog.ResourceLogs) bool {
	ra, rb := a.Resource(), b.Resource()
	return a.SchemaUrl() == b.SchemaUrl() &&
		ra.DroppedAttributesCount() == rb.DroppedAttributesCount() &&
		ra.Attributes().Equal(rb.Attributes())
}

func sameScope(a, b plog.ScopeLogs) bool {
	sa, sb := a.Scope(), b.Scope()
	return a.SchemaUrl() == b.SchemaUrl() &&
		sa.Name() == sb.Name() && sa.Version() == sb.Version() &&
		sa.DroppedAttributesCount() == sb.DroppedAttributesCount() &&
		sa.Attributes().Equal(sb.Attributes())
}

// part is the service and record count of batches merged into another.
type part struct {
	key     string
	records int
}

// appendParts appends the batch's services, merging a run of one service.
func (b *Batch) appendParts(parts []part) []part {
	own := b.parts
	if own == nil {
		own = []part{{b.Key, b.Records}}
	}
	for _, p := range own {
		if n := len(parts); n > 0 && parts[n-1].key == p.key {
			parts[n-1].records += p.records
			continue
		}
		parts = append(parts, p)
	}
	return parts
}

// appendDones appends what must be told when the batch leaves the stage.
func (b *Batch) appendDones(dones []func(error)) []func(error) {
	if b.Done != nil {
		dones = append(dones, b.Done)
	}
	return append(dones, b.dones...)
}

// finish tells the batch's Done, and those of the batches merged into it,
// how it left the stage: nil when delivered, else the error that dropped
// it.
func (b *Batch) finish(err error) {
	if b.Done != nil {
		b.Done(err)
	}
	for _, d := range b.dones {
		d(err)
	}
}
