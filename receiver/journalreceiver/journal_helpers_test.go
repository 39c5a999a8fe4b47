package journalreceiver

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap/zaptest"

	"github.com/otelcol-logx/otelcol-logx/receiver/journalreceiver/internal/metadata"
)

// journalRemote turns export-format input into real journal files
// (package systemd-journal-remote, installed by scripts/deps.sh).
const journalRemote = "/lib/systemd/systemd-journal-remote"

const testBootID = "0123456789abcdef0123456789abcdef"

// testJournal is a journal file written by systemd-journal-remote.
type testJournal struct {
	t    testing.TB
	path string
	n    int // entries written, for increasing timestamps
}

func newTestJournal(t testing.TB, dir, name string) *testJournal {
	return &testJournal{t: t, path: filepath.Join(dir, name)}
}

// field is an extra journal field of a test entry.
type field struct {
	name  string
	value []byte
}

// entry encodes one export-format entry with the fields journald would set,
// then extra; binary form for every value, as the format allows.
func (j *testJournal) entry(msg []byte, extra ...field) []byte {
	j.n++
	var b bytes.Buffer
	fmt.Fprintf(&b, "__REALTIME_TIMESTAMP=%d\n", 1_700_000_000_000_000+int64(j.n)*1000)
	fmt.Fprintf(&b, "__MONOTONIC_TIMESTAMP=%d\n", int64(j.n)*1000)
	fmt.Fprintf(&b, "_BOOT_ID=%s\n", testBootID)
	b.WriteString("_HOSTNAME=testhost\n")
	for _, f := range extra {
		b.Write(exportField(f.name, f.value, true))
	}
	b.Write(exportField("MESSAGE", msg, true))
	b.WriteByte('\n')
	return b.Bytes()
}

// append writes entries to the journal file (created if missing).
func (j *testJournal) append(entries ...[]byte) {
	j.t.Helper()
	cmd := exec.Command(journalRemote, "--output="+j.path, "--compress=no", "-")
	cmd.Stdin = bytes.NewReader(bytes.Join(entries, nil))
	out, err := cmd.CombinedOutput()
	require.NoError(j.t, err, "systemd-journal-remote: %s", out)
}

// appendMessages writes simple entries "prefix-0".."prefix-(n-1)".
func (j *testJournal) appendMessages(prefix string, n int, extra ...field) {
	entries := make([][]byte, n)
	for i := range entries {
		entries[i] = j.entry([]byte(fmt.Sprintf("%s-%d", prefix, i)), extra...)
	}
	j.append(entries...)
}

// recordingConsumer keeps what it accepted; refuse decides per call.
type recordingConsumer struct {
	mu       sync.Mutex
	accepted []plog.LogRecord
	calls    int
	sizes    []int // records offered per call
	refuse   func(call int) error
}

func (c *recordingConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *recordingConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.sizes = append(c.sizes, ld.LogRecordCount())
	if c.refuse != nil {
		if err := c.refuse(c.calls); err != nil {
			return err
		}
	}
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := plog.NewLogRecord()
				lrs.At(k).CopyTo(lr)
				if h, ok := rl.Resource().Attributes().Get("host.name"); ok {
					lr.Attributes().PutStr("test.resource.host.name", h.Str())
				}
				c.accepted = append(c.accepted, lr)
			}
		}
	}
	return nil
}

func (c *recordingConsumer) callSizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.sizes...)
}

func (c *recordingConsumer) records() []plog.LogRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]plog.LogRecord(nil), c.accepted...)
}

func (c *recordingConsumer) bodies() []string {
	var out []string
	for _, lr := range c.records() {
		out = append(out, lr.Body().AsString())
	}
	return out
}

// waitCount polls until the consumer accepted want records.
func (c *recordingConsumer) waitCount(t *testing.T, want int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(c.records()) >= want }, 30*time.Second, 10*time.Millisecond,
		"consumer has %d of %d records", len(c.records()), want)
}

// testConfig reads everything from dir, with the cursor in cursorDir and
// short delays.
func testConfig(dir, cursorDir string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Directory = dir
	cfg.CursorDirectory = cursorDir
	cfg.StartAt = "beginning"
	cfg.Batch.FlushInterval = 20 * time.Millisecond
	cfg.RetryOnFailure = BackoffConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 50 * time.Millisecond}
	cfg.Restart = BackoffConfig{InitialInterval: 10 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	return cfg
}

// receiverSettings names the receiver "journal" (receivertest's ID is
// random), so that a restarted receiver finds its cursor.
func receiverSettings() receiver.Settings {
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	return set
}

// runningReceiver is a started receiver with its telemetry.
type runningReceiver struct {
	t   *testing.T
	rcv *journalReceiver
	tel *componenttest.Telemetry
}

func startReceiver(t *testing.T, cfg *Config, next consumer.Logs, host component.Host) *runningReceiver {
	t.Helper()
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	set := receiverSettings()
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = zaptest.NewLogger(t)
	rcv, err := newJournalReceiver(set, cfg, next)
	require.NoError(t, err)
	if host == nil {
		host = componenttest.NewNopHost()
	}
	require.NoError(t, rcv.Start(context.Background(), host))
	r := &runningReceiver{t: t, rcv: rcv, tel: tel}
	t.Cleanup(r.stop)
	return r
}

// stop shuts the receiver down; safe to call twice.
func (r *runningReceiver) stop() {
	if r.rcv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(r.t, r.rcv.Shutdown(ctx))
	r.rcv = nil
}

// counter sums an Int64 counter's data points whose attributes include
// reason (or all of them when reason is "").
func (r *runningReceiver) counter(name, reason string) int64 {
	m, err := r.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var n int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if reason != "" {
			if v, ok := dp.Attributes.Value("reason"); !ok || v.AsString() != reason {
				continue
			}
		}
		n += dp.Value
	}
	return n
}
