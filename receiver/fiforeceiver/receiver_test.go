package fiforeceiver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/fiforeceiver/internal/metadata"
)

type harness struct {
	t    testing.TB
	cfg  *Config
	tel  *componenttest.Telemetry
	sink *testutil.RefusingSink
	rcv  *fifoReceiver
}

func newHarness(t testing.TB, edit func(*Config)) *harness {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(t.TempDir(), "sub", "app.fifo")
	if edit != nil {
		edit(cfg)
	}
	require.NoError(t, cfg.Validate())
	h := &harness{t: t, cfg: cfg, tel: componenttest.NewTelemetry(), sink: &testutil.RefusingSink{}}
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = h.tel.NewTelemetrySettings()
	r, err := newReceiver(set, cfg, h.sink)
	require.NoError(t, err)
	h.rcv = r
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(h.t, h.rcv.Shutdown(ctx))
}

// writer opens the FIFO as a program would: O_WRONLY, blocking.
func (h *harness) writer() *os.File {
	f, err := os.OpenFile(h.cfg.Path, os.O_WRONLY, 0)
	require.NoError(h.t, err)
	return f
}

func (h *harness) counter(name, reason string) int64 {
	return testutil.SumInt64Reason(h.t, h.tel, name, reason)
}

func TestCreatesFIFOWithMode(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Mode = "0640"; c.PipeSize = 1 << 20 })
	fi, err := os.Stat(h.cfg.Path)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeNamedPipe)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	// F_GETPIPE_SZ (1032) reports the enlarged buffer.
	w := h.writer()
	defer w.Close()
	size, _, errno := syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), 1032, 0)
	require.Zero(t, errno)
	assert.GreaterOrEqual(t, int(size), 1<<20)
}

func TestRefusesNonFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(path, []byte("keep"), 0o600))
	cfg := createDefaultConfig().(*Config)
	cfg.Path = path
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, &testutil.RefusingSink{})
	require.NoError(t, err)
	require.ErrorContains(t, r.Start(context.Background(), componenttest.NewNopHost()), "is not a FIFO")
	require.NoError(t, r.Shutdown(context.Background()))
}

func TestWritersComeAndGo(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Service = "billing" })
	const rounds, perRound = 30, 20
	for r := range rounds {
		w := h.writer()
		for i := range perRound {
			_, err := fmt.Fprintf(w, "<13>Nov 22 04:00:00 app[9]: round %d line %d\n", r, i)
			require.NoError(t, err)
		}
		require.NoError(t, w.Close()) // the last writer goes: no EOF for the receiver
	}
	testutil.WaitFor(t, 30*time.Second, "all lines", func() bool { return h.sink.LogRecordCount() == rounds*perRound })
	for _, lr := range testutil.LogRecords(h.sink.AllLogs()) {
		svc, _ := lr.Attributes().Get(logattr.Service)
		assert.Equal(t, "billing", svc.Str(), "the configured service wins over the app name")
	}
}

func TestManyConcurrentWriters(t *testing.T) {
	h := newHarness(t, nil)
	const writers, perWriter = 16, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			f := h.writer()
			defer f.Close()
			for i := range perWriter {
				// One write per line: writes up to PIPE_BUF are atomic, so
				// lines of different writers never interleave.
				_, err := fmt.Fprintf(f, "<14>Nov 22 04:00:00 w%d: line %d\n", w, i)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	testutil.WaitFor(t, 30*time.Second, "all lines", func() bool { return h.sink.LogRecordCount() == writers*perWriter })
	seen := map[string]bool{}
	for _, lr := range testutil.LogRecords(h.sink.AllLogs()) {
		app, _ := lr.Attributes().Get(logattr.SyslogAppName)
		svc, _ := lr.Attributes().Get(logattr.Service)
		assert.Equal(t, app.Str(), svc.Str())
		seen[app.Str()+" "+lr.Body().Str()] = true
	}
	assert.Len(t, seen, writers*perWriter)
}

// A line beyond max_message_size, one without a header and one with
// invalid UTF-8: see testutil.OversizedMalformedAndInvalidUTF8.
func TestOversizedMalformedAndInvalidUTF8(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxMessageSize = 1024 })
	testutil.OversizedMalformedAndInvalidUTF8(t, h.lineReader())
}

// TestRefusingConsumerNeverBlocksWriter: the consumer refuses everything
// while a FIFO writer (a separate process) writes 100k lines; no write
// blocks for 100 ms, the drop counter equals exactly the lines that did not
// arrive, and delivery resumes once the consumer accepts again.
func TestRefusingConsumerNeverBlocksWriter(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Buffer.MaxBytes = 2 << 20 })
	testutil.NeverBlocksWriterWhileRefusing(t, h.lineReader(), ingest.ReasonBufferFull)
}

// lineReader is the harness as the shared line-reader scenarios see it.
func (h *harness) lineReader() testutil.LineReader {
	return testutil.LineReader{
		Path: h.cfg.Path, Sink: h.sink, Held: h.rcv.stage.Held,
		Dropped: func(reason string) int64 { return h.counter("otelcol_logx_fifo_dropped_records", reason) },
		Counter: func(name, reason string) int64 { return h.counter("otelcol_logx_fifo_"+name, reason) },
		Write: func(t testing.TB, line []byte) {
			w := h.writer()
			_, err := w.Write(line)
			require.NoError(t, err)
			require.NoError(t, w.Close())
		},
	}
}
