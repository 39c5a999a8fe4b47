package journalreceiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver/internal/metadata"
)

// position is where journalctl begins: after cursor if set, else at the
// oldest entry (fromBeginning or start_at: beginning), else at since if
// set, else at the end.
type position struct {
	cursor        string
	fromBeginning bool
	since         time.Time
}

// journalctlArgs builds journalctl's command line. A cursor is passed with
// --cursor, which includes the cursor's own entry: the first entry read then
// tells whether the cursor still exists (see journalSource.runOnce).
func journalctlArgs(cfg *Config, pos position) ([]string, error) {
	args := []string{"--output=export", "--follow", "--quiet", "--no-pager"}
	// journalctl cannot follow a relative --file (it fails to set up
	// inotify), so paths are made absolute.
	if cfg.Directory != "" {
		abs, err := filepath.Abs(cfg.Directory)
		if err != nil {
			return nil, err
		}
		args = append(args, "--directory="+abs)
	}
	for _, f := range cfg.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		args = append(args, "--file="+abs)
	}
	switch {
	case pos.cursor != "":
		args = append(args, "--cursor="+pos.cursor, "--no-tail")
	case pos.fromBeginning || cfg.StartAt == "beginning":
		args = append(args, "--no-tail")
	case !pos.since.IsZero():
		args = append(args, "--since="+sinceArg(pos.since), "--no-tail")
	default:
		args = append(args, "--lines=0")
	}
	for _, u := range cfg.Units {
		args = append(args, "--unit="+u)
	}
	for _, id := range cfg.Identifiers {
		args = append(args, "--identifier="+id)
	}
	if cfg.Priority != "" {
		p, _ := parsePriority(cfg.Priority)
		args = append(args, "--priority="+priorityNames[p])
	}
	if len(cfg.Matches) > 0 {
		args = append(args, "--")
		args = append(args, cfg.Matches...)
	}
	return args, nil
}

// sinceArg writes t as journalctl's "@seconds.micros" (seconds since the
// epoch), which needs no time zone and keeps the journal's resolution.
func sinceArg(t time.Time) string {
	us := t.UnixMicro()
	return fmt.Sprintf("@%d.%06d", us/1_000_000, us%1_000_000)
}

// tailCursor returns the cursor of the newest entry that passes the
// filters, "" if there is none. start_at: end begins after it: storing it
// at once means a restart before the first new entry loses nothing.
func tailCursor(ctx context.Context, cfg *Config) (string, error) {
	args, err := journalctlArgs(cfg, position{})
	if err != nil {
		return "", err
	}
	// The same source and filters, but the last entry and no following.
	for i, a := range args {
		switch a {
		case "--follow":
			args[i] = "--lines=1"
		case "--lines=0":
			args[i] = "--quiet"
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cfg.JournalctlPath, args...) //nolint:gosec // G204: journalctl_path is the operator's, from the config
	stderr := &tailWriter{max: 4096}
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	e, err := NewExportReader(bytes.NewReader(out), ExportLimits{MaxEntryBytes: cfg.MaxEntryBytes, MaxFields: maxFields}).Next()
	if errors.Is(err, io.EOF) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	cur, _ := e.Get(fieldCursor)
	return cur, nil
}

// journalSource runs journalctl, decodes its output and hands entries on,
// restarting journalctl with backoff whenever it exits. Sending blocks while
// the pipeline is busy: the journal keeps the entries, so backpressure here
// loses nothing and journalctl simply waits on its pipe.
type journalSource struct {
	cfg    *Config
	logger *zap.Logger
	tel    *metadata.TelemetryBuilder
	out    chan<- *Entry

	// cursor is that of the last entry handed on (at start: the stored one);
	// a restarted journalctl continues after it.
	cursor        string
	fromBeginning bool      // the stored cursor was unusable: read all there is
	since         time.Time // start_at: overlap before the first entry: read from here
	match         matcher   // the direct reader's filters (journalctl filters itself)
}

var (
	reasonExited     = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "exited")))
	reasonParseError = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "parse_error")))
	reasonNotFound   = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "not_found")))
	reasonInvalid    = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "invalid")))
)

// run reads with the configured reader, opening it again after the last
// entry handed on whenever it stops (journalctl exits, its output does not
// parse, or the journal files cannot be read), with backoff.
func (s *journalSource) run(ctx context.Context) {
	delay := s.cfg.Restart.InitialInterval
	runOnce := s.runJournalctl
	if s.cfg.Reader == readerDirect {
		runOnce = s.runDirect
	}
	for {
		n, err := runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		var ee *ExportError
		if errors.As(err, &ee) {
			s.tel.LogxJournalParseErrors.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", ee.Reason))))
			s.tel.LogxJournalJournalctlRestarts.Add(ctx, 1, reasonParseError)
		} else {
			s.tel.LogxJournalJournalctlRestarts.Add(ctx, 1, reasonExited)
		}
		if n > 0 { // it ran and delivered: this is a new failure, not a crash loop
			delay = s.cfg.Restart.InitialInterval
		}
		s.logger.Warn("journal reader stopped; restarting", zap.String("reader", s.cfg.Reader), zap.Error(err), zap.Int("entries", n), zap.Duration("delay", delay))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, s.cfg.Restart.MaxInterval)
	}
}

// runJournalctl runs journalctl until it exits, its output is malformed,
// or ctx ends. It returns the number of entries handed on and why it
// stopped.
func (s *journalSource) runJournalctl(ctx context.Context) (int, error) {
	fromCursor := s.cursor
	args, err := journalctlArgs(s.cfg, position{cursor: fromCursor, fromBeginning: s.fromBeginning, since: s.since})
	if err != nil {
		return 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(runCtx, s.cfg.JournalctlPath, args...) //nolint:gosec // G204: journalctl_path is the operator's, from the config
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	stderr := &tailWriter{max: 4096}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	s.logger.Debug("journalctl started", zap.Strings("args", args))

	dec := NewExportReader(stdout, ExportLimits{MaxEntryBytes: s.cfg.MaxEntryBytes, MaxFields: maxFields})
	n, readErr := s.pump(runCtx, func(context.Context) (*Entry, error) { return dec.Next() }, fromCursor, fromCursor != "")
	cancel() // stop journalctl if the stream broke while it runs
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return n, ctx.Err()
	}
	// A cursor journalctl cannot parse makes it exit before any entry:
	// forget it and read from the oldest entry rather than lose any.
	if fromCursor != "" && n == 0 && s.cursor == fromCursor && strings.Contains(stderr.String(), "cursor") {
		s.tel.LogxJournalCursorLost.Add(ctx, 1, reasonInvalid)
		s.logger.Error("journalctl refused the stored cursor; reading from the oldest entry", zap.String("cursor", fromCursor), zap.String("stderr", stderr.String()))
		s.cursor = ""
		s.fromBeginning = true
	}
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		return n, readErr
	}
	if waitErr == nil {
		waitErr = errors.New("journalctl exited")
	}
	if msg := strings.TrimSpace(stderr.String()); msg != "" {
		waitErr = errors.New(waitErr.Error() + ": " + msg)
	}
	return n, waitErr
}

// pump hands entries on until next fails. With checkFirst, the first entry
// should be that of fromCursor (journalctl --cursor includes it): it is
// skipped, and any other first entry means the cursor's is gone.
func (s *journalSource) pump(ctx context.Context, next func(context.Context) (*Entry, error), fromCursor string, checkFirst bool) (int, error) {
	n := 0
	for {
		e, err := next(ctx)
		if err != nil {
			return n, err
		}
		s.tel.LogxJournalEntriesRead.Add(ctx, 1)
		cur, _ := e.Get(fieldCursor)
		if checkFirst {
			checkFirst = false
			if cur == fromCursor {
				continue // already delivered before the restart
			}
			// The cursor's entry is gone (vacuumed) or filtered out;
			// journalctl went on from the nearest later entry.
			s.tel.LogxJournalCursorLost.Add(ctx, 1, reasonNotFound)
			s.logger.Warn("stored journal cursor no longer names an entry (vacuumed, or filters changed); continuing from the oldest later entry", zap.String("cursor", fromCursor))
		}
		if e.Truncated {
			s.tel.LogxJournalTruncated.Add(ctx, 1)
		}
		if cur == "" {
			s.tel.LogxJournalParseErrors.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "missing_cursor"))))
		}
		select {
		case s.out <- e:
		case <-ctx.Done():
			return n, ctx.Err()
		}
		n++
		if cur != "" {
			s.cursor = cur
			s.fromBeginning = false
			s.since = time.Time{}
		}
	}
}

// tailWriter keeps the last max bytes written: journalctl's error message.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
