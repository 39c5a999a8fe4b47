package logfileexporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/exporter/logfileexporter/internal/metadata"
	"github.com/otelcol-logx/otelcol-logx/internal/attrtemplate"
	"github.com/otelcol-logx/otelcol-logx/internal/fileperm"
	"github.com/otelcol-logx/otelcol-logx/internal/guard"
	"github.com/otelcol-logx/otelcol-logx/internal/handlecache"
)

// drop reasons, indexed for per-batch counting without allocation.
const (
	dropDiskMaxTotal = iota
	dropDiskMinFree
	dropOpen
	dropWrite
	dropTooLong
	dropSymlink
	numDropReasons
)

var dropReasonAttrs = [numDropReasons]metric.MeasurementOption{
	dropDiskMaxTotal: metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", metadata.ReasonDiskMaxTotal))),
	dropDiskMinFree:  metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", metadata.ReasonDiskMinFree))),
	dropOpen:         metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", metadata.ReasonOpen))),
	dropWrite:        metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", metadata.ReasonWrite))),
	dropTooLong:      metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", metadata.ReasonTooLong))),
	dropSymlink:      metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", metadata.ReasonSymlink))),
}

var overflowMaxPaths = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", metadata.ReasonMaxPaths)))

var (
	reopenMoved  = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "moved")))
	reopenSIGHUP = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "sighup")))
)

// errDiskFull is returned (retryable) with disk_guard.on_full: retry.
var errDiskFull = errors.New("logfile: disk guard reached")

// retentionSweepEvery is how often directories are read to reconcile the
// accounting with other tools' changes and to apply max_age to files
// that are not rotating.
const retentionSweepEvery = time.Minute

// logfileExporter writes records to files. One mutex guards all file
// state: a batch is written under it, so records of a batch stay in order
// and the background maintenance never sees a half-written line. No
// directory is read under it (see scan.go).
type logfileExporter struct {
	cfg *Config
	set exporter.Settings
	tpl *attrtemplate.Template
	// root is the directory of the template's fixed part: below it no
	// symbolic link is followed. overflow is the overflow file's path.
	root     string
	overflow string
	format   lineFormatter
	perms    perms
	tel      *metadata.TelemetryBuilder
	logger   *zap.Logger
	now      func() time.Time // injectable clock (tests)
	statfs   func(dir string) (free int64, err error)

	mu    sync.Mutex
	files map[string]*logFile // open files by path
	// lru orders the open files by last write; beyond max_open_files the
	// least recently written is closed (closeEvicted).
	lru   *handlecache.Cache[*logFile, struct{}]
	accts map[string]*pathAcct // known paths (see pathAcct)
	dirs  map[string]*dirState
	total int64 // bytes of this exporter's files: active and rotated
	gen   uint64
	// pendingAdopt are new paths whose earlier rotated files are still
	// to be looked for; adoptReq wakes the loop for them.
	pendingAdopt []string
	adoptReq     chan struct{}
	line         []byte
	pathBuf      []byte
	lastWarn     time.Time
	lastSwep     time.Time
	lastChk      time.Time
	closed       bool

	// scanMu serializes directory reads; listings is their cache.
	scanMu   sync.Mutex
	listings map[string]dirListing

	guards       *guard.Registration
	shutdownOnce sync.Once
	compress     *compressor
	stop         chan struct{}
	done         chan struct{}
	hup          chan os.Signal
}

func newLogfileExporter(c *Config, set exporter.Settings) (*logfileExporter, error) {
	tpl, err := c.pathTemplate()
	if err != nil {
		return nil, err
	}
	format, err := newFormatter(c)
	if err != nil {
		return nil, err
	}
	tel, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	fileMode, _ := fileperm.Mode(c.Permissions.FileMode)
	dirMode, _ := fileperm.DirMode(c.Permissions.DirMode)
	e := &logfileExporter{
		cfg:      c,
		set:      set,
		tpl:      tpl,
		root:     c.fixedDir(),
		overflow: c.overflowPath(),
		format:   format,
		perms:    perms{fileMode: fileMode, dirMode: os.FileMode(dirMode), uid: -1, gid: -1},
		tel:      tel,
		logger:   set.Logger,
		now:      time.Now,
		statfs:   statfsFree,
		files:    map[string]*logFile{},
		accts:    map[string]*pathAcct{},
		dirs:     map[string]*dirState{},

		adoptReq: make(chan struct{}, 1),
		listings: map[string]dirListing{},
	}
	e.lru = handlecache.New(c.MaxOpenFiles, e.closeEvicted)
	return e, nil
}

// closeEvicted closes a file the LRU let go of (e.mu held: the cache is
// only used under it).
func (e *logfileExporter) closeEvicted(f *logFile, _ struct{}) {
	_ = e.closeFile(f, e.now())
}

func (e *logfileExporter) start(_ context.Context, _ component.Host) error {
	var err error
	if e.perms.uid, err = fileperm.UserID(e.cfg.Permissions.Owner); err != nil {
		return fmt.Errorf("permissions.owner: %w", err)
	}
	if e.perms.gid, err = fileperm.GroupID(e.cfg.Permissions.Group); err != nil {
		return fmt.Errorf("permissions.group: %w", err)
	}
	if e.guards, err = e.registerGuards(); err != nil {
		return err
	}
	e.compress = newCompressor(e)
	e.stop = make(chan struct{})
	e.done = make(chan struct{})
	if e.cfg.Reopen.OnSIGHUP {
		e.hup = make(chan os.Signal, 1)
		signal.Notify(e.hup, syscall.SIGHUP)
	}
	go e.loop()
	return nil
}

// shutdown stops the exporter; calls after the first return nil.
func (e *logfileExporter) shutdown(ctx context.Context) error {
	var err error
	e.shutdownOnce.Do(func() { err = e.stopAll(ctx) })
	return err
}

func (e *logfileExporter) stopAll(ctx context.Context) error {
	if e.stop == nil {
		return nil // never started
	}
	if e.hup != nil {
		signal.Stop(e.hup)
	}
	close(e.stop)
	<-e.done
	errs := []error{e.guards.Unregister()}
	e.mu.Lock()
	for _, f := range e.files {
		errs = append(errs, e.closeFile(f, e.now()))
	}
	e.closed = true
	e.mu.Unlock()
	errs = append(errs, e.compress.shutdown(ctx))
	return errors.Join(errs...)
}

// loop runs maintenance: flushes, fsyncs, time rotation, reopen checks,
// retention by age; and reopens every file on SIGHUP.
func (e *logfileExporter) loop() {
	defer close(e.done)
	t := time.NewTicker(e.tickEvery())
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.maintain(e.now())
		case <-e.hup:
			e.reopenAll()
		case <-e.adoptReq:
			e.adoptPending()
		}
	}
}

// tickEvery is the shortest configured period, at most one second.
func (e *logfileExporter) tickEvery() time.Duration {
	d := time.Second
	for _, p := range []time.Duration{e.cfg.Flush.Interval, e.cfg.Flush.SyncInterval, e.cfg.Reopen.CheckInterval} {
		if p > 0 && p < d {
			d = p
		}
	}
	return max(d, 10*time.Millisecond)
}

// maintain does what is due at now. Tests call it directly with a fake
// clock.
func (e *logfileExporter) maintain(now time.Time) {
	e.maintainFiles(now)
	e.sweep(now)
}

// maintainFiles does what is due for open files.
func (e *logfileExporter) maintainFiles(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	for f := range e.lru.All() { // f may be closed and unlinked
		e.maintainFile(f, now)
	}
	if ci := e.cfg.Reopen.CheckInterval; ci > 0 && now.Sub(e.lastChk) >= ci {
		e.lastChk = now
		for f := range e.lru.All() {
			if f.movedAway() {
				e.tel.LogxLogfileReopens.Add(context.Background(), 1, reopenMoved)
				e.warn(now, "file moved or removed; reopening", f.path, nil)
				// What was moved is the mover's now (logrotate's).
				e.setActive(f.acct, 0)
				_ = e.closeFile(f, now) // the next record reopens the path
			}
		}
	}
}

func (e *logfileExporter) maintainFile(f *logFile, now time.Time) {
	fl := e.cfg.Flush
	if fl.Interval > 0 && now.Sub(f.lastFlush) >= fl.Interval {
		e.flushFile(f, now)
	}
	if fl.SyncInterval > 0 && now.Sub(f.lastSync) >= fl.SyncInterval {
		e.flushFile(f, now)
		if err := f.sync(now); err != nil {
			e.warn(now, "fsync failed", f.path, err)
		}
	}
	if !f.nextRotate.IsZero() && !now.Before(f.nextRotate) {
		if f.size > 0 {
			e.rotate(f, now)
		} else {
			// Idle a whole interval: free the descriptor, and let the
			// path be forgotten once retention removed its rotated files.
			_ = e.closeFile(f, now)
		}
	}
}

// reopenAll closes every file (flushing it); records that follow open
// their paths anew, as logrotate's postrotate "kill -HUP" expects.
func (e *logfileExporter) reopenAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	for _, f := range e.files {
		e.tel.LogxLogfileReopens.Add(context.Background(), 1, reopenSIGHUP)
		_ = e.closeFile(f, now)
	}
}

// batchCounts adds up a batch's outcome, reported once per batch.
type batchCounts struct {
	written, bytes int64
	overflowed     int64 // written to the overflow file (max_paths)
	dropped        [numDropReasons]int64
}

func (e *logfileExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	e.mu.Lock()
	var c batchCounts
	err := e.writeLogs(ld, &c)
	e.mu.Unlock()

	if c.written > 0 {
		e.tel.LogxLogfileRecordsWritten.Add(ctx, c.written)
		e.tel.LogxLogfileBytesWritten.Add(ctx, c.bytes)
	}
	if c.overflowed > 0 {
		e.tel.LogxLogfileRecordsOverflowed.Add(ctx, c.overflowed, overflowMaxPaths)
	}
	for r, n := range c.dropped {
		if n > 0 {
			e.tel.LogxLogfileRecordsDropped.Add(ctx, n, dropReasonAttrs[r])
		}
	}
	return err
}

func (e *logfileExporter) writeLogs(ld plog.Logs, c *batchCounts) error {
	if e.closed {
		return errors.New("logfile exporter is shut down")
	}
	now := e.now()
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource()
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			recs := sl.LogRecords()
			for k := 0; k < recs.Len(); k++ {
				rec := recs.At(k)
				e.line = e.format.appendLine(e.line[:0], res, sl.Scope(), rec)
				if len(e.line) > e.cfg.MaxRecordBytes {
					c.dropped[dropTooLong]++
					e.line = nil // do not keep a huge buffer for good
					continue
				}
				e.pathBuf, _ = e.tpl.Append(e.pathBuf[:0], rec.Attributes(), res.Attributes())
				f, overflowed, err := e.fileFor(e.pathBuf, now)
				if err != nil {
					if errors.Is(err, errSymlink) {
						c.dropped[dropSymlink]++
					} else {
						c.dropped[dropOpen]++
					}
					e.warn(now, "cannot open file; dropping record", string(e.pathBuf), err)
					continue
				}
				if r := e.guard(f, len(e.line), now); r >= 0 {
					if e.cfg.DiskGuard.OnFull == onFullRetry {
						e.flushAfterBatch(now)
						return consumererror.NewLogs(errDiskFull, remainingLogs(ld, i, j, k))
					}
					c.dropped[r]++
					continue
				}
				if err := e.writeLine(f, e.line, now); err != nil {
					c.dropped[dropWrite]++
					continue
				}
				c.written++
				c.bytes += int64(len(e.line))
				if overflowed {
					c.overflowed++
				}
			}
		}
	}
	e.flushAfterBatch(now)
	return nil
}

// flushAfterBatch writes buffers now when flush.interval is 0.
func (e *logfileExporter) flushAfterBatch(now time.Time) {
	if e.cfg.Flush.Interval > 0 {
		return
	}
	for f := range e.lru.All() {
		e.flushFile(f, now)
	}
}

// writeLine rotates f when the line would pass max_bytes or a time
// boundary has passed, then buffers the line.
func (e *logfileExporter) writeLine(f *logFile, line []byte, now time.Time) error {
	r := e.cfg.Rotation
	if f.size > 0 && (r.MaxBytes > 0 && f.size+int64(len(line)) > r.MaxBytes ||
		!f.nextRotate.IsZero() && !now.Before(f.nextRotate)) {
		e.rotate(f, now)
		if f.f == nil {
			return errors.New("reopen after rotation failed")
		}
	}
	if err := f.append(line); err != nil {
		e.dropBuffered(f, now, err)
		return err
	}
	e.total += int64(len(line))
	if s := e.cfg.Flush.SyncEveryBytes; s > 0 && f.unsynced >= s {
		e.flushFile(f, now)
		if err := f.sync(now); err != nil {
			e.warn(now, "fsync failed", f.path, err)
		}
	}
	return nil
}

func (e *logfileExporter) flushFile(f *logFile, now time.Time) {
	f.lastFlush = now
	lost := f.pendingRecords()
	if err := f.flush(); err != nil {
		e.tel.LogxLogfileRecordsDropped.Add(context.Background(), int64(lost), dropReasonAttrs[dropWrite])
		e.warn(now, "write failed; buffered records dropped", f.path, err)
	}
}

func (e *logfileExporter) dropBuffered(f *logFile, now time.Time, err error) {
	e.tel.LogxLogfileRecordsDropped.Add(context.Background(), int64(f.pendingRecords()), dropReasonAttrs[dropWrite])
	f.buf, f.bufRecs = f.buf[:0], 0
	e.warn(now, "write failed", f.path, err)
}

// fileFor returns the open file for path (or for the overflow file when
// path would pass max_paths: overflowed), opening it, and closing the
// least recently written one beyond max_open_files, when needed.
func (e *logfileExporter) fileFor(path []byte, now time.Time) (f *logFile, overflowed bool, err error) {
	if f, _, ok := e.lru.Front(); ok && f.path == string(path) {
		return f, false, nil // the common case: same file as the previous record
	}
	if f, ok := e.files[string(path)]; ok {
		e.lru.Get(f)
		return f, false, nil
	}
	p, overflowed := e.route(path)
	if f, ok := e.files[p]; ok {
		e.lru.Get(f)
		return f, overflowed, nil
	}
	// Close the least recently written before opening: never more than
	// max_open_files open at once.
	e.lru.MakeRoom()
	f, err = e.openFile(p, now)
	return f, overflowed, err
}

func (e *logfileExporter) openFile(path string, now time.Time) (*logFile, error) {
	fd, err := e.perms.openFile(e.rootOf(path), path)
	if err != nil {
		return nil, err
	}
	dev, ino, size, err := fileID(fd)
	if err != nil {
		_ = fd.Close()
		return nil, err
	}
	f := &logFile{path: path, f: fd, dev: dev, ino: ino, size: size,
		buf: make([]byte, 0, e.cfg.Flush.BufferBytes), lastFlush: now, lastSync: now}
	if e.cfg.Rotation.Interval > 0 {
		f.nextRotate = e.nextBoundary(now)
	}
	dir := dirOf(path)
	if f.dir = e.dirs[dir]; f.dir == nil {
		f.dir = &dirState{}
		e.dirs[dir] = f.dir
	}
	a := e.acctFor(path)
	f.acct, a.file, a.touched = a, f, e.nextGen()
	e.setActive(a, size)
	e.files[path] = f
	e.lru.Add(f, struct{}{})
	return f, nil
}

// closeFile flushes, optionally fsyncs, and closes f, and forgets it (and
// its path, when nothing of it is left on disk).
func (e *logfileExporter) closeFile(f *logFile, now time.Time) error {
	e.flushFile(f, now)
	var err error
	if e.cfg.Flush.SyncEveryBytes > 0 || e.cfg.Flush.SyncInterval > 0 {
		err = f.sync(now)
	}
	if f.f != nil {
		err = errors.Join(err, f.f.Close())
		f.f = nil
	}
	delete(e.files, f.path)
	e.lru.Remove(f)
	if a := f.acct; a.file == f {
		a.file, a.touched = nil, e.nextGen()
		e.maybeForget(a)
	}
	return err
}

// warn logs at most every ten seconds, so that a failing disk or a bad
// path does not flood the collector's log; the counters say how many.
func (e *logfileExporter) warn(now time.Time, msg, path string, err error) {
	if now.Sub(e.lastWarn) < 10*time.Second && !e.lastWarn.IsZero() {
		return
	}
	e.lastWarn = now
	e.logger.Warn(msg, zap.String("path", path), zap.Error(err))
}

// remainingLogs copies the records from (i, j, k) on, for a partial retry.
func remainingLogs(ld plog.Logs, i, j, k int) plog.Logs {
	out := plog.NewLogs()
	rls := ld.ResourceLogs()
	for ri := i; ri < rls.Len(); ri++ {
		rl := rls.At(ri)
		orl := out.ResourceLogs().AppendEmpty()
		rl.Resource().CopyTo(orl.Resource())
		orl.SetSchemaUrl(rl.SchemaUrl())
		sls := rl.ScopeLogs()
		sj := 0
		if ri == i {
			sj = j
		}
		for ; sj < sls.Len(); sj++ {
			sl := sls.At(sj)
			osl := orl.ScopeLogs().AppendEmpty()
			sl.Scope().CopyTo(osl.Scope())
			osl.SetSchemaUrl(sl.SchemaUrl())
			recs := sl.LogRecords()
			rk := 0
			if ri == i && sj == j {
				rk = k
			}
			for ; rk < recs.Len(); rk++ {
				recs.At(rk).CopyTo(osl.LogRecords().AppendEmpty())
			}
		}
	}
	return out
}
