//go:build interop

package cfjs1receiver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
)

// syslogNGConfig reads a file and sends each line to the receiver with a
// cfjs1 template, as a host not yet migrated would.
const syslogNGConfig = `@version: 3.35
options { stats_freq(0); };
source s_in { file("%s" follow-freq(0.05) flags(no-parse)); };
destination d_cfjs1 {
  network("127.0.0.1" port(%s) transport("tcp")
    template("{\"format\":\"syslog\",\"syslog\":$(format-json timestamp=${ISODATE} message=${MESSAGE} PROGRAM=syslog-ng-test)}\n"));
};
log { source(s_in); destination(d_cfjs1); };
`

func TestSyslogNGInterop(t *testing.T) {
	bin, err := exec.LookPath("syslog-ng")
	require.NoError(t, err, "syslog-ng is installed by scripts/deps.sh (syslog-ng-core)")

	sink := &consumertest.LogsSink{}
	r := startReceiver(t, sink, nil)
	_, port, _ := strings.Cut(r.Addr().String(), ":")

	dir := t.TempDir()
	in := filepath.Join(dir, "in.log")
	messages := []string{`plain line`, `with "quotes" and \backslash`, `ünïcödé ✓`, `tab	inside`}
	for i := range 50 {
		messages = append(messages, fmt.Sprintf("numbered %d", i))
	}
	require.NoError(t, os.WriteFile(in, []byte(strings.Join(messages, "\n")+"\n"), 0o600))
	conf := filepath.Join(dir, "syslog-ng.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(syslogNGConfig, in, port)), 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-F", "--no-caps", "-f", conf,
		"-R", filepath.Join(dir, "persist"), "-p", filepath.Join(dir, "pid"), "-c", filepath.Join(dir, "ctl"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})

	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for sink.LogRecordCount() < len(messages) {
		select {
		case <-exited:
			t.Fatalf("syslog-ng exited; it said:\n%s", out.String())
		case <-deadline:
			cancel()
			<-exited // out is complete and no longer written
			t.Fatalf("got %d of %d records; syslog-ng said:\n%s", sink.LogRecordCount(), len(messages), out.String())
		case <-tick.C:
		}
	}
	got := map[string]bool{}
	for _, rec := range records(sink) {
		got[rec.Body().Str()] = true
		f, _ := rec.Attributes().Get(logattr.CFJS1Format)
		assert.Equal(t, "syslog", f.Str())
		p, _ := rec.Attributes().Get("PROGRAM")
		assert.Equal(t, "syslog-ng-test", p.Str())
		assert.NotZero(t, rec.Timestamp())
	}
	for _, m := range messages {
		assert.True(t, got[m], "missing %q", m)
	}
	assert.Equal(t, len(messages), sink.LogRecordCount(), "no duplicates, nothing extra")
}
