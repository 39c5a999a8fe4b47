package journalreceiver

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/internal/journalfile"
)

// The direct reader (reader: direct) reads the journal files itself with
// internal/journalfile instead of running journalctl: the same entries,
// with the same fields in the same order as journalctl --output=export
// writes them (systemd 252: __CURSOR, __REALTIME_TIMESTAMP,
// __MONOTONIC_TIMESTAMP, _BOOT_ID, then the entry's fields), filtered by
// the same matches (match.go), so that everything after the reader is
// shared.

// directWaitTimeout is how long the direct reader waits for inotify before
// it looks at the files anyway: a safety net for changes inotify does not
// report (a writer on another host of a network file system).
const directWaitTimeout = 2 * time.Second

// directRefreshInterval is the least time between two looks at the files
// after the first change: a writer appending entry by entry makes an
// inotify event per entry, and a look per event costs a few system calls
// and a wakeup per entry. One look per 10 ms reads what those 10 ms
// brought at once (about 100 entries at 10,000 entries/s), for at most
// 10 ms of latency; journald itself signals appends at most every 250 ms.
const directRefreshInterval = 10 * time.Millisecond

// maxFields bounds the fields of one entry, with either reader; further
// fields are dropped and the entry counted as truncated.
const maxFields = 4096

// directSources are the files the direct reader reads: files, directory,
// or the local machine's journal, as journalctl chooses them.
func directSources(cfg *Config) (journalfile.Sources, error) {
	switch {
	case len(cfg.Files) > 0:
		src := journalfile.Sources{}
		for _, f := range cfg.Files {
			abs, err := filepath.Abs(f)
			if err != nil {
				return src, err
			}
			src.Files = append(src.Files, abs)
		}
		return src, nil
	case cfg.Directory != "":
		abs, err := filepath.Abs(cfg.Directory)
		return journalfile.Sources{Roots: []string{abs}}, err
	}
	return journalfile.SystemSources()
}

// directOptions bound what journalfile decompresses for one entry: values
// beyond max_entry_bytes are cut afterwards (as journalctl's are), but a
// compressed value must be decompressed first, within this bound. An
// entry past it is skipped and counted (entry_too_large).
func directOptions(cfg *Config) journalfile.Options {
	return journalfile.Options{MaxEntryBytes: min(4*cfg.MaxEntryBytes, maxEntryBytes)}
}

// directReader reads entries from journal files and follows them.
type directReader struct {
	dir       *journalfile.Dir
	refreshed time.Time // the last look at the files
	pause     *time.Timer
	match     matcher
	build     entryBuilder
	e         journalfile.Entry
	tel       func(reason string) // counts an entry or file it could not read
	logger    *zap.Logger
}

// openDirect opens the journal files and positions the reader at pos. A
// cursor that does not parse is reported as invalid (the reader then
// starts at the oldest entry); one whose entry is gone as not_found.
func (s *journalSource) openDirect(ctx context.Context) (*directReader, error) {
	src, err := directSources(s.cfg)
	if err != nil {
		return nil, err
	}
	dir, err := journalfile.OpenSources(src, directOptions(s.cfg))
	if err != nil {
		return nil, err
	}
	r := &directReader{dir: dir, refreshed: time.Now(), match: s.match, build: entryBuilder{maxBytes: s.cfg.MaxEntryBytes}, logger: s.logger,
		tel: func(reason string) {
			s.tel.LogxJournalParseErrors.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
		}}
	r.reportFileErrors()
	// Watch before reading, so that nothing written between reading to
	// the end and waiting is missed.
	if err := dir.Wait(ctx, 0); err != nil {
		_ = dir.Close()
		return nil, err
	}
	if err := s.positionDirect(ctx, dir); err != nil {
		_ = dir.Close()
		return nil, err
	}
	return r, nil
}

func (s *journalSource) positionDirect(ctx context.Context, dir *journalfile.Dir) error {
	switch {
	case s.cursor != "":
		c, err := journalfile.ParseCursor(s.cursor)
		if err != nil {
			s.tel.LogxJournalCursorLost.Add(ctx, 1, reasonInvalid)
			s.logger.Error("stored journal cursor does not parse; reading from the oldest entry", zap.String("cursor", s.cursor), zap.Error(err))
			s.cursor, s.fromBeginning = "", true
			return nil
		}
		found, err := dir.Seek(c)
		if err != nil {
			return err
		}
		if !found {
			s.tel.LogxJournalCursorLost.Add(ctx, 1, reasonNotFound)
			s.logger.Warn("stored journal cursor no longer names an entry (vacuumed, or filters changed); continuing from the oldest later entry", zap.String("cursor", s.cursor))
		}
	case s.fromBeginning || s.cfg.StartAt == "beginning":
	case !s.since.IsZero():
		us := s.since.UnixMicro()
		if _, err := dir.Seek(journalfile.Cursor{Realtime: uint64(max(us-1, 0)), HasRealtime: true}); err != nil { //nolint:gosec // G115: max(…, 0) is not negative
			return err
		}
	default:
		dir.SeekTail()
	}
	return nil
}

// next returns the next entry that passes the filters, waiting for the
// writer at the end of the files. Entries and files it cannot read are
// counted and stepped over; an error ends the run (the reader is opened
// again after the last entry handed on).
func (r *directReader) next(ctx context.Context) (*Entry, error) {
	for {
		err := r.dir.Next(&r.e)
		if err == nil {
			if r.match != nil && !r.match.matches(r.e.Fields) {
				continue
			}
			return r.build.entry(&r.e), nil
		}
		if !errors.Is(err, io.EOF) {
			r.skipped(err)
			continue
		}
		if err := r.dir.Wait(ctx, directWaitTimeout); err != nil {
			return nil, err
		}
		if err := r.paceRefresh(ctx); err != nil {
			return nil, err
		}
		if err := r.dir.Refresh(); err != nil {
			return nil, err
		}
		r.reportFileErrors()
	}
}

// paceRefresh waits until directRefreshInterval has passed since the last
// look at the files, so that the appends of that time are read at once.
func (r *directReader) paceRefresh(ctx context.Context) error {
	if d := directRefreshInterval - time.Since(r.refreshed); d > 0 {
		if r.pause == nil {
			r.pause = time.NewTimer(d)
		} else {
			r.pause.Reset(d)
		}
		select {
		case <-r.pause.C:
		case <-ctx.Done():
			r.pause.Stop()
			return ctx.Err()
		}
	}
	r.refreshed = time.Now()
	return nil
}

// skipped counts an entry (or the rest of a file) that could not be read.
func (r *directReader) skipped(err error) {
	reason := "corrupt_entry"
	var tl *journalfile.EntryTooLargeError
	if errors.As(err, &tl) {
		reason = "entry_too_large"
	}
	r.tel(reason)
	r.logger.Warn("journal entry skipped", zap.String("reason", reason), zap.Error(err))
}

// reportFileErrors counts and logs the files that could not be opened.
func (r *directReader) reportFileErrors() {
	for _, err := range r.dir.FileErrors() {
		r.tel("bad_file")
		r.logger.Warn("journal file skipped", zap.Error(err))
	}
}

func (r *directReader) close() error { return r.dir.Close() }

// runDirect reads the journal files until an error or ctx ends.
func (s *journalSource) runDirect(ctx context.Context) (int, error) {
	r, err := s.openDirect(ctx)
	if err != nil {
		return 0, err
	}
	defer r.close() //nolint:errcheck // read-only
	return s.pump(ctx, r.next, "", false)
}

// tailCursorDirect is tailCursor for the direct reader: the cursor of the
// newest entry that passes the filters, found by reading them all (only
// at the first start with start_at: end).
func tailCursorDirect(cfg *Config, match matcher) (string, error) {
	src, err := directSources(cfg)
	if err != nil {
		return "", err
	}
	dir, err := journalfile.OpenSources(src, directOptions(cfg))
	if err != nil {
		return "", err
	}
	defer dir.Close() //nolint:errcheck // read-only
	var e journalfile.Entry
	var last []byte
	for {
		err := dir.Next(&e)
		if errors.Is(err, io.EOF) {
			return string(last), nil
		}
		if err != nil || (match != nil && !match.matches(e.Fields)) {
			continue
		}
		last = e.AppendCursor(last[:0])
	}
}

// entryBuilder makes an Entry of a journal file's entry, with the fields
// journalctl --output=export writes and within the same bounds as the
// export reader: max_entry_bytes of names and values (a value is cut at
// what is left, a field past it dropped) and maxFields fields.
type entryBuilder struct {
	maxBytes  int
	scratch   []byte
	spans     []span
	num       []byte
	truncated bool
}

func (b *entryBuilder) entry(e *journalfile.Entry) *Entry {
	b.scratch, b.spans, b.truncated = b.scratch[:0], b.spans[:0], false
	b.num = e.AppendCursor(b.num[:0])
	b.add(nameCursor, b.num)
	b.num = strconv.AppendUint(b.num[:0], e.Realtime, 10)
	b.add(nameRealtime, b.num)
	b.num = strconv.AppendUint(b.num[:0], e.Monotonic, 10)
	b.add(nameMonotonic, b.num)
	b.num = hex.AppendEncode(b.num[:0], e.BootID[:])
	b.add(nameBootID, b.num)
	for _, f := range e.Fields {
		name, value, ok := journalfile.SplitField(f)
		if !ok || string(name) == fieldBootID { // printed from the entry's header, as journalctl does
			continue
		}
		b.add(name, value)
	}
	out := &Entry{buf: string(b.scratch), fields: slices.Clone(b.spans), Truncated: b.truncated}
	if cap(b.scratch) > 1<<20 {
		b.scratch = nil // do not keep one huge entry's space for good
	}
	return out
}

// The fields journalctl writes before an entry's own.
var (
	nameCursor    = []byte(fieldCursor)
	nameRealtime  = []byte(fieldRealtime)
	nameMonotonic = []byte("__MONOTONIC_TIMESTAMP")
	nameBootID    = []byte(fieldBootID)
)

// fieldBootID is stored as a field and in the entry's header.
const fieldBootID = "_BOOT_ID"

func (b *entryBuilder) add(name, value []byte) {
	budget := b.maxBytes - len(b.scratch) - len(name)
	if len(b.spans) >= maxFields || budget < 0 {
		b.truncated = true
		return
	}
	s := span{ns: int32(len(b.scratch))} //nolint:gosec // G115: len(scratch) <= max_entry_bytes (64 MiB at most)
	b.scratch = append(b.scratch, name...)
	s.ne = int32(len(b.scratch)) //nolint:gosec // G115: as above
	s.vs = s.ne
	if len(value) > budget {
		value = value[:budget]
		b.truncated = true
	}
	b.scratch = append(b.scratch, value...)
	s.ve = int32(len(b.scratch)) //nolint:gosec // G115: as above
	b.spans = append(b.spans, s)
}
