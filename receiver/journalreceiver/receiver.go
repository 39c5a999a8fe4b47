package journalreceiver

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver/internal/metadata"
)

// obsFormat is the format reported to receiverhelper.ObsReport.
const obsFormat = "journal_export"

// cursorBeginning is stored instead of a cursor when start_at: end met an
// empty journal: its end was its beginning, and stays so until an entry is
// delivered.
const cursorBeginning = "@beginning"

// cursorSincePrefix, followed by microseconds since the epoch, is stored
// instead of a cursor when start_at: overlap first started: a restart
// before the first delivery reads from the same point, not from a later
// one that would skip the oldest entries of the overlap.
const cursorSincePrefix = "@since="

// entryQueue is how many decoded entries wait between journalctl and the
// batcher: with max_entry_bytes it bounds the memory in flight.
const entryQueue = 16

var reasonPermanent = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "permanent_error")))

type journalReceiver struct {
	cfg    *Config
	set    receiver.Settings
	next   consumer.Logs
	obs    *receiverhelper.ObsReport
	tel    *metadata.Telemetry
	conv   *converter
	store  cursorStore
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newJournalReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*journalReceiver, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "journalctl",
		LongLivedCtx:           true,
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tel, err := metadata.NewTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &journalReceiver{cfg: cfg, set: set, next: next, obs: obs, tel: tel, conv: newConverter(cfg)}, nil
}

// Start loads the cursor and starts journalctl and the batcher.
func (r *journalReceiver) Start(ctx context.Context, host component.Host) error {
	store, err := openCursorStore(ctx, host, r.cfg, r.set.ID)
	if err != nil {
		return err
	}
	cursor, err := store.Load(ctx)
	if err != nil {
		_ = store.Close(ctx)
		return err
	}
	r.store = store
	pos := position{cursor: cursor}
	switch {
	case cursor == cursorBeginning:
		pos = position{fromBeginning: true}
	case strings.HasPrefix(cursor, cursorSincePrefix):
		pos = position{since: r.storedSince(cursor)}
	case cursor == "" && r.cfg.StartAt == "end":
		pos.cursor, pos.fromBeginning = r.startAtEnd(ctx)
	case cursor == "" && r.cfg.StartAt == "overlap":
		pos = position{since: r.startAtOverlap(ctx)}
	}
	r.set.Logger.Info("journal receiver starting", zap.String("cursor", pos.cursor), zap.Bool("from_beginning", pos.fromBeginning), zap.Time("since", pos.since))

	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	entries := make(chan *Entry, entryQueue)
	src := &journalSource{cfg: r.cfg, logger: r.set.Logger, tel: r.tel, out: entries, cursor: pos.cursor, fromBeginning: pos.fromBeginning, since: pos.since}
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		src.run(runCtx)
	}()
	go func() {
		defer r.wg.Done()
		r.batchLoop(runCtx, entries)
	}()
	return nil
}

// startAtEnd finds where "end" is before any entry is read, and stores it,
// so that entries written while the collector is down before its first new
// entry are not skipped by the next start. An empty journal's end is its
// beginning. If journalctl cannot say, journalctl --lines=0 decides later.
func (r *journalReceiver) startAtEnd(ctx context.Context) (cursor string, fromBeginning bool) {
	cursor, err := tailCursor(ctx, r.cfg)
	if err != nil {
		r.set.Logger.Warn("could not find the end of the journal; starting at its end once journalctl runs", zap.Error(err))
		return "", false
	}
	fromBeginning = cursor == ""
	if fromBeginning {
		cursor = cursorBeginning
	}
	if err := r.store.Save(ctx, cursor); err != nil {
		r.tel.CursorSaveErrors.Add(ctx, 1)
		r.set.Logger.Error("storing the journal cursor failed", zap.Error(err))
	}
	if fromBeginning {
		return "", true
	}
	return cursor, false
}

// startAtOverlap is the first start with start_at: overlap: it reads from
// overlap before now, and stores that point until the first delivery
// replaces it with a cursor.
func (r *journalReceiver) startAtOverlap(ctx context.Context) time.Time {
	since := time.Now().Add(-r.cfg.Overlap)
	if err := r.store.Save(ctx, cursorSincePrefix+strconv.FormatInt(since.UnixMicro(), 10)); err != nil {
		r.tel.CursorSaveErrors.Add(ctx, 1)
		r.set.Logger.Error("storing the journal start point failed", zap.Error(err))
	}
	return since
}

// storedSince reads the start point startAtOverlap stored. One that does
// not parse was not written by this receiver; overlap before now is the
// nearest thing to what it meant.
func (r *journalReceiver) storedSince(stored string) time.Time {
	us, err := strconv.ParseInt(strings.TrimPrefix(stored, cursorSincePrefix), 10, 64)
	if err != nil || us <= 0 {
		r.tel.CursorLost.Add(context.Background(), 1, reasonInvalid)
		r.set.Logger.Error("stored journal start point does not parse; reading from overlap before now", zap.String("stored", stored))
		return time.Now().Add(-r.cfg.Overlap)
	}
	return time.UnixMicro(us)
}

// Shutdown stops journalctl and the batcher. A batch the pipeline has not
// accepted is abandoned: its cursor was not stored, so the next start reads
// it again.
func (r *journalReceiver) Shutdown(ctx context.Context) error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return r.store.Close(ctx)
}

// batchLoop gathers entries into batches, delivers each until the pipeline
// accepts it, and only then stores the cursor of its last entry.
func (r *journalReceiver) batchLoop(ctx context.Context, entries <-chan *Entry) {
	batch := make([]*Entry, 0, min(r.cfg.Batch.MaxEntries, 1024))
	for {
		batch = batch[:0]
		select {
		case e := <-entries:
			batch = append(batch, e)
		case <-ctx.Done():
			return
		}
		size := batch[0].Size()
		flush := time.NewTimer(r.cfg.Batch.FlushInterval)
	fill:
		for len(batch) < r.cfg.Batch.MaxEntries && size < r.cfg.Batch.MaxBytes {
			select {
			case e := <-entries:
				batch = append(batch, e)
				size += e.Size()
			case <-flush.C:
				break fill
			case <-ctx.Done():
				flush.Stop()
				return
			}
		}
		flush.Stop()
		if !r.deliver(ctx, batch) {
			return
		}
		r.commit(ctx, batch)
		clear(batch) // let the entries go
	}
}

// deliver sends the batch until the pipeline accepts it, with backoff while
// it refuses. It returns false if ctx ended first. A permanent error drops
// the batch (counted): retrying could never succeed.
func (r *journalReceiver) deliver(ctx context.Context, batch []*Entry) bool {
	delay := r.cfg.RetryOnFailure.InitialInterval
	for {
		// Rebuilt for every attempt: a refusing pipeline may have changed
		// the data it was given.
		b := newBatchBuilder()
		now := pcommon.NewTimestampFromTime(time.Now())
		for _, e := range batch {
			r.conv.append(b, e, now)
		}
		opCtx := r.obs.StartLogsOp(ctx)
		err := r.next.ConsumeLogs(opCtx, b.logs)
		r.obs.EndLogsOp(opCtx, obsFormat, len(batch), err)
		if err == nil {
			return true
		}
		if consumererror.IsPermanent(err) {
			r.tel.Dropped.Add(ctx, int64(len(batch)), reasonPermanent)
			r.set.Logger.Error("pipeline refused journal entries permanently; dropped", zap.Int("entries", len(batch)), zap.Error(err))
			return true
		}
		r.set.Logger.Debug("pipeline refused journal entries; retrying", zap.Int("entries", len(batch)), zap.Duration("delay", delay), zap.Error(err))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		delay = min(2*delay, r.cfg.RetryOnFailure.MaxInterval)
	}
}

// commit stores the cursor of the batch's last entry that has one. It is
// not cut short by shutdown: the pipeline has the entries already.
func (r *journalReceiver) commit(ctx context.Context, batch []*Entry) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for i := len(batch) - 1; i >= 0; i-- {
		if cur, ok := batch[i].Get(fieldCursor); ok && cur != "" {
			if err := r.store.Save(ctx, cur); err != nil {
				r.tel.CursorSaveErrors.Add(ctx, 1)
				r.set.Logger.Error("storing the journal cursor failed; a restart may repeat entries", zap.Error(err))
			}
			return
		}
	}
}
