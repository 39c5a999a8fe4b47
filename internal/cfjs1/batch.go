package cfjs1

import (
	"go.opentelemetry.io/collector/pdata/plog"
)

// Batch collects decoded lines into one plog.Logs for a pipeline. A line is
// decoded into a scratch resource first; its record then joins the batch's
// last resource when resource and scope are the same as that one's (the
// usual case: lines of one sender, one host), else the whole scratch
// becomes a new resource. Grouping saves the pipeline a resource per
// record, and the next hop a resource per line.
type Batch struct {
	logs      plog.Logs
	scratch   plog.ResourceLogs
	resources resourceMatcher // compares scratch's resource with the batch's last
}

// NewBatch returns an empty batch.
func NewBatch() *Batch {
	return &Batch{logs: plog.NewLogs(), scratch: newScratch()}
}

func newScratch() plog.ResourceLogs {
	rl := plog.NewResourceLogs()
	rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	return rl
}

// Add decodes line with dc into the batch and returns the record it made,
// valid until the batch is next changed. On error the batch is as it was.
func (b *Batch) Add(dc *Decoder, line []byte) (plog.LogRecord, error) {
	sl := b.scratch.ScopeLogs().At(0)
	if _, err := dc.Decode(line, Target{Resource: b.scratch.Resource(), Scope: sl.Scope(), Record: sl.LogRecords().At(0)}); err != nil {
		// Decode leaves its target as it was on error; a fresh scratch
		// all the same, so that nothing half-written can ever leak.
		b.scratch = newScratch()
		return plog.LogRecord{}, err
	}
	return b.addScratch(), nil
}

// addScratch moves the decoded line into the batch.
func (b *Batch) addScratch() plog.LogRecord {
	rls := b.logs.ResourceLogs()
	if n := rls.Len(); n > 0 {
		last := rls.At(n - 1)
		lastScope, scope := last.ScopeLogs().At(0).Scope(), b.scratch.ScopeLogs().At(0).Scope()
		if b.resources.same(last.Resource().Attributes(), b.scratch.Resource().Attributes()) &&
			lastScope.Name() == scope.Name() && lastScope.Version() == scope.Version() {
			rec := last.ScopeLogs().At(0).LogRecords().AppendEmpty()
			b.scratch.ScopeLogs().At(0).LogRecords().At(0).MoveTo(rec)
			// The scratch keeps its resource for the next comparison's
			// sake only; clear it so the next line starts empty.
			b.scratch.Resource().Attributes().Clear()
			scope.SetName("")
			scope.SetVersion("")
			return rec
		}
	}
	rl := rls.AppendEmpty()
	b.scratch.MoveTo(rl)
	b.scratch = newScratch()
	return rl.ScopeLogs().At(0).LogRecords().At(0)
}

// Records is the number of log records in the batch.
func (b *Batch) Records() int { return b.logs.LogRecordCount() }

// Take returns the batch's logs and starts an empty batch.
func (b *Batch) Take() plog.Logs {
	ld := b.logs
	b.logs = plog.NewLogs()
	return ld
}
