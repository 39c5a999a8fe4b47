package fiforeceiver

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
	"github.com/otelcol-logx/otelcol-logx/receiver/fiforeceiver/internal/metadata"
)

// startAt starts a receiver on an existing config, with its log observed.
func startAt(t *testing.T, cfg *Config, sink *testutil.RefusingSink) (*fifoReceiver, *componenttest.Telemetry, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	tel := componenttest.NewTelemetry()
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = zap.New(core)
	r, err := newReceiver(set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	return r, tel, logs
}

func shutdown(t *testing.T, r *fifoReceiver) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, r.Shutdown(ctx))
}

func logged(logs *observer.ObservedLogs, substr string) bool {
	for _, e := range logs.All() {
		if strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}

// TestRefusesUnreadableFIFO: a FIFO the collector's user cannot read is
// refused with its owner and mode and what to do. Its mode lets only its
// owner write; the open runs as that owner or, for root (which reads
// everything), as user nobody.
func TestRefusesUnreadableFIFO(t *testing.T) {
	dir, err := os.MkdirTemp("", "fifo-perm")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	path := filepath.Join(dir, "wo.fifo")
	require.NoError(t, unix.Mkfifo(path, 0o200))
	require.NoError(t, os.Chmod(path, 0o200))
	err = withoutRoot(t, func() error { _, err := openPath(path); return err })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot be opened for reading")
	assert.Contains(t, err.Error(), fmt.Sprintf("owned by uid %d", os.Getuid()))
	assert.Contains(t, err.Error(), "mode 0200")
}

// withoutRoot runs fn with file permissions in force: as the test's user,
// or, when that is root (which may open any file), on an OS thread of its
// own whose effective uid is nobody's (a raw setresuid changes only that
// thread, unlike syscall.Setresuid), discarded afterwards.
func withoutRoot(t *testing.T, fn func() error) error {
	t.Helper()
	if os.Geteuid() != 0 {
		return fn()
	}
	const uid = 65534
	res := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if _, _, errno := unix.RawSyscall(unix.SYS_SETRESUID, ^uintptr(0), uintptr(uid), ^uintptr(0)); errno != 0 {
			res <- fmt.Errorf("setresuid: %w", errno)
			return
		}
		res <- fn()
	}()
	return <-res
}

// TestReloadKeepsTheReadEnd: between the shutdown of a receiver and the
// start of the next one of the same path (an in-process reload) the pipe
// keeps its reader: a writer holding the FIFO open never gets EPIPE, and
// what it writes in between is read by the next receiver.
func TestReloadKeepsTheReadEnd(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(t.TempDir(), "reload.fifo")
	sink := &testutil.RefusingSink{}
	r1, _, _ := startAt(t, cfg, sink)
	w, err := os.OpenFile(cfg.Path, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer w.Close()
	_, err = w.Write([]byte("<13>app: before\n"))
	require.NoError(t, err)
	testutil.WaitFor(t, 30*time.Second, "first line", func() bool { return sink.LogRecordCount() == 1 })
	shutdown(t, r1)

	_, err = w.Write([]byte("<13>app: between\n"))
	require.NoError(t, err, "no EPIPE: the pipe kept a reader")

	r2, _, logs := startAt(t, cfg, sink)
	defer shutdown(t, r2)
	assert.True(t, logged(logs, "kept open across a reload"))
	_, err = w.Write([]byte("<13>app: after\n"))
	require.NoError(t, err)
	testutil.WaitFor(t, 30*time.Second, "all lines", func() bool { return sink.LogRecordCount() == 3 })
	var bodies []string
	for _, lr := range testutil.LogRecords(sink.AllLogs()) {
		bodies = append(bodies, lr.Body().Str())
	}
	assert.Equal(t, []string{"before", "between", "after"}, bodies)
}

// TestShutdownAccountsForEverything: lines written before the stop, with
// a downstream refusing everything, are each delivered or counted as
// dropped: what the pipe still held is read at shutdown, and what the
// buffer held is counted with reason shutdown and logged once.
func TestShutdownAccountsForEverything(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Path = filepath.Join(t.TempDir(), "acct.fifo")
	sink := &testutil.RefusingSink{}
	sink.SetRefusing(true)
	r, tel, logs := startAt(t, cfg, sink)
	w, err := os.OpenFile(cfg.Path, os.O_WRONLY, 0)
	require.NoError(t, err)
	const total = 20_000 // about 900 KB: fits the 1 MiB pipe, never blocks
	var chunk []byte
	for i := range total {
		chunk = fmt.Appendf(chunk, "<13>app: line %06d\n", i)
		if len(chunk) > 4000 || i == total-1 {
			_, err := w.Write(chunk)
			require.NoError(t, err)
			chunk = chunk[:0]
		}
	}
	require.NoError(t, w.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	require.NoError(t, r.Shutdown(ctx))

	dropped := func(reason string) int64 {
		h := &harness{t: t, tel: tel}
		return h.counter("otelcol_logx_fifo_dropped_records", reason)
	}
	assert.Equal(t, int64(total), int64(sink.LogRecordCount())+dropped(""))
	assert.Positive(t, dropped(ingest.ReasonShutdown))
	assert.True(t, logged(logs, "dropped (counted in dropped_records with reason shutdown)"))
}

// TestReadOnlyFIFOOutlivesItsWriters: a FIFO the collector may read but
// not write is opened read-only; each time its last writer goes the read
// sees end-of-file, which must not end the receiver's stream: the lines
// of the next writer still arrive. Stop then ends it.
func TestReadOnlyFIFOOutlivesItsWriters(t *testing.T) {
	dir, err := os.MkdirTemp("", "fifo-ro")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	path := filepath.Join(dir, "ro.fifo")
	require.NoError(t, unix.Mkfifo(path, 0o444))
	require.NoError(t, os.Chmod(path, 0o444)) // nobody may write
	var o *openedFIFO
	require.NoError(t, withoutRoot(t, func() error { var err error; o, err = openPath(path); return err }))
	require.True(t, o.readOnly)
	// The writers below are the test's user: the mode lets its owner write
	// from now on (the open descriptor stays read-only).
	require.NoError(t, os.Chmod(path, 0o644))
	pr := newPipeReader(o.file, o.readOnly)
	defer o.file.Close()
	got := make(chan string, 2)
	go func() {
		br := bufio.NewReader(pr)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				close(got)
				return
			}
			got <- line
		}
	}()
	for _, line := range []string{"first writer\n", "second writer\n"} {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = w.Write([]byte(line))
		require.NoError(t, err)
		require.NoError(t, w.Close()) // no writer left: EOF for a read-only reader
		select {
		case l := <-got:
			assert.Equal(t, line, l)
		case <-time.After(10 * time.Second):
			t.Fatalf("%q did not arrive", line)
		}
	}
	pr.Stop()
	select {
	case _, open := <-got:
		assert.False(t, open, "the stream ends after Stop")
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not end the stream")
	}
}
