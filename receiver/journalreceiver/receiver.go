package journalreceiver

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/lagsignal"
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

// reasonPermanent is the dropped counter's reason for entries the pipeline
// refused with a permanent error (the stage's ingest.ReasonRefused).
const reasonPermanent = "permanent_error"

type journalReceiver struct {
	cfg    *Config
	match  matcher // the direct reader's filters
	set    receiver.Settings
	tel    *metadata.TelemetryBuilder
	conv   *converter
	store  cursorStore
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// stage holds the batches read until the pipeline takes them, within
	// buffer.max_bytes (batchLoop waits for room: the journal itself keeps
	// what is not read yet), and stores the cursor as they are accepted.
	stage   *ingest.Stage
	commits committer
	guards  *guard.Registration
	labels  ingest.ServiceLabels
}

func newJournalReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*journalReceiver, error) {
	match, err := newMatcher(cfg)
	if err != nil {
		return nil, err
	}
	transport := "journalctl"
	if cfg.Reader == readerDirect {
		transport = "journalfile"
	}
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              transport,
		LongLivedCtx:           true,
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	r := &journalReceiver{cfg: cfg, match: match, set: set, tel: tel, conv: newConverter(cfg)}
	// Drops are counted by service in each batch's Done (countDrops): a
	// batch holds the entries of many services, as they interleave in the
	// journal.
	r.stage = ingest.NewStage(cfg.Buffer, ingest.StageSettings{
		Next:       next,
		ObsReport:  obs,
		Format:     obsFormat,
		Logger:     set.Logger,
		MinBackoff: cfg.RetryOnFailure.InitialInterval,
		MaxBackoff: cfg.RetryOnFailure.MaxInterval,
		Wait:       true, // the entries wait in the journal: never dropped for room
	})
	r.commits.save = r.saveCursor
	return r, nil
}

// dropped counts entries the stage gave up on, by reason and service. An
// entry dropped at shutdown is not lost: the cursor stays before it, and
// the next start reads it again.
func (r *journalReceiver) dropped(service, reason string, n int) {
	if reason == ingest.ReasonRefused {
		reason = reasonPermanent
		r.set.Logger.Error("pipeline refused journal entries permanently; dropped", zap.Int("entries", n), zap.String("service", service))
	}
	r.tel.LogxJournalDropped.Add(context.Background(), int64(n), metric.WithAttributes(
		attribute.String("reason", reason), attribute.String("service", r.labels.Label(service))))
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

	guards, err := guard.Register(r.set.TelemetrySettings, r.set.ID, r.stage.Guards()...)
	if err != nil {
		_ = store.Close(ctx)
		return err
	}
	r.guards = guards
	r.stage.Start()
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	entries := make(chan *Entry, entryQueue)
	src := &journalSource{cfg: r.cfg, logger: r.set.Logger, tel: r.tel, out: entries, cursor: pos.cursor, fromBeginning: pos.fromBeginning, since: pos.since, match: r.match}
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
// beginning. If the reader cannot say, the end when it starts reading
// decides later.
func (r *journalReceiver) startAtEnd(ctx context.Context) (cursor string, fromBeginning bool) {
	var err error
	if r.cfg.Reader == readerDirect {
		cursor, err = tailCursorDirect(r.cfg, r.match)
	} else {
		cursor, err = tailCursor(ctx, r.cfg)
	}
	if err != nil {
		r.set.Logger.Warn("could not find the end of the journal; starting at its end once the reader runs", zap.Error(err))
		return "", false
	}
	fromBeginning = cursor == ""
	if fromBeginning {
		cursor = cursorBeginning
	}
	if err := r.store.Save(ctx, cursor); err != nil {
		r.tel.LogxJournalCursorSaveErrors.Add(ctx, 1)
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
		r.tel.LogxJournalCursorSaveErrors.Add(ctx, 1)
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
		r.tel.LogxJournalCursorLost.Add(context.Background(), 1, reasonInvalid)
		r.set.Logger.Error("stored journal start point does not parse; reading from overlap before now", zap.String("stored", stored))
		return time.Now().Add(-r.cfg.Overlap)
	}
	return time.UnixMicro(us)
}

// Shutdown stops journalctl and the batcher, then hands what the stage
// holds to the pipeline until ctx ends or ingest.DrainTimeout passes,
// storing the cursor as it is accepted. What the pipeline does not take
// in time is counted (reason shutdown) but not lost: its cursor was not
// stored, so the next start reads it again.
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
		// The stage still stops (at once, counting what it holds), so
		// that its sender does not outlive the receiver.
		r.stopStage(ctx)
		return ctx.Err()
	}
	r.stopStage(ctx)
	r.commits.wait()
	return r.store.Close(ctx)
}

func (r *journalReceiver) stopStage(ctx context.Context) {
	_ = r.stage.Shutdown(ctx)
	if r.guards != nil {
		_ = r.guards.Unregister()
		r.guards = nil
	}
}

// batchLoop gathers entries into batches and puts them into the stage,
// waiting while it is full (the journal keeps what is not read yet, so
// nothing is dropped for room). A batch is sent when it reaches
// batch.max_entries or batch.max_bytes, or flush_interval after its first
// entry. A batch holds entries of any service, in journal order: services
// interleave entry by entry in a journal, and batches of one service each
// would mostly be of one entry, paying per entry what is meant to be paid
// per batch (the stage, the pipeline's request, the exporter's). Since
// this receiver waits rather than drops, the stage's fair share has
// nothing to share; drops are still counted by service (countDrops).
func (r *journalReceiver) batchLoop(ctx context.Context, entries <-chan *Entry) {
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	var lag lagsignal.Run
	for {
		var first *Entry
		select {
		case first = <-entries:
		case <-ctx.Done():
			return
		}
		batch := make([]*Entry, 1, min(r.cfg.Batch.MaxEntries, 1024))
		batch[0] = first
		size := first.Size()
		flush.Reset(r.cfg.Batch.FlushInterval)
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
		// A batch filled before its flush interval means a backlog: said
		// at once (lagsignal), so that a process running on few threads
		// gets more before the catch-up is half over.
		lag.Read(len(batch) >= r.cfg.Batch.MaxEntries || size >= r.cfg.Batch.MaxBytes)
		if !r.put(ctx, batch) {
			return
		}
	}
}

// put hands a batch to the stage, waiting for room; false if ctx ended
// first (the batch was not taken, and its cursor is not stored).
func (r *journalReceiver) put(ctx context.Context, batch []*Entry) bool {
	seq := r.commits.begin()
	cursor := lastCursor(batch)
	b := ingest.Batch{
		Size:       batchCost(batch),
		ParsedSize: parsedCost(batch),
		Records:    len(batch),
		Build:      func() plog.Logs { return r.convert(batch) },
		Done: func(err error) {
			r.countDrops(batch, err)
			r.commits.done(seq, cursor, err)
		},
	}
	return r.stage.Put(ctx, b) == nil
}

// countDrops counts the entries of a batch the stage dropped, by service.
func (r *journalReceiver) countDrops(batch []*Entry, err error) {
	var drop *ingest.DropError
	if !errors.As(err, &drop) {
		return
	}
	n := map[string]int{}
	var order []string
	for _, e := range batch {
		s := r.conv.service(e)
		if _, ok := n[s]; !ok {
			order = append(order, s)
		}
		n[s]++
	}
	for _, s := range order {
		r.dropped(s, drop.Reason, n[s])
	}
}

// convert makes the batch's records; run by the stage's sender, once.
func (r *journalReceiver) convert(batch []*Entry) plog.Logs {
	b := newBatchBuilder()
	now := pcommon.NewTimestampFromTime(time.Now())
	for _, e := range batch {
		r.conv.append(b, e, now)
	}
	return b.logs
}

// lastCursor is the cursor of the batch's last entry that has one.
func lastCursor(batch []*Entry) string {
	for i := len(batch) - 1; i >= 0; i-- {
		if cur, ok := batch[i].Get(fieldCursor); ok && cur != "" {
			return cur
		}
	}
	return ""
}

// saveCursor stores a cursor. It is not cut short by shutdown: the
// pipeline has the entries already.
func (r *journalReceiver) saveCursor(cursor string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.store.Save(ctx, cursor); err != nil {
		r.tel.LogxJournalCursorSaveErrors.Add(ctx, 1)
		r.set.Logger.Error("storing the journal cursor failed; a restart may repeat entries", zap.Error(err))
	}
}
