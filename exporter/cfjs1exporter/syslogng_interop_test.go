//go:build interop

package cfjs1exporter

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// A syslog-ng that receives cfjs1 lines as plain text and writes them to a
// file, as an unmigrated central receiver would.
const syslogNGReceiver = `@version: 3.35
options { stats_freq(0); };
source s_net { network(ip("127.0.0.1") port(%s) transport("tcp") flags(no-parse)); };
destination d_file { file("%s" template("${MESSAGE}\n")); };
log { source(s_net); destination(d_file); };
`

func TestPlainSyslogNGReceiver(t *testing.T) {
	bin, err := exec.LookPath("syslog-ng")
	require.NoError(t, err, "syslog-ng is installed by scripts/deps.sh (syslog-ng-core)")
	dir := t.TempDir()
	addr := testutil.FreeTCPAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	out := filepath.Join(dir, "out.log")
	conf := filepath.Join(dir, "syslog-ng.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(syslogNGReceiver, port, out)), 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-F", "--no-caps", "-f", conf,
		"-R", filepath.Join(dir, "persist"), "-p", filepath.Join(dir, "pid"), "-c", filepath.Join(dir, "ctl"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cancel(); <-exited })

	no := false
	cfg := testConfig(EndpointConfig{Name: "legacy", Endpoint: addr, Ack: &no})
	cfg.Failback.HealthyFor = 0
	e := startExporter(t, cfg) // syslog-ng may still be starting: the probe retries
	deadline := time.Now().Add(20 * time.Second)
	for !e.endpoints[0].isUp() {
		select {
		case <-exited:
			t.Fatalf("syslog-ng exited:\n%s", logs.String())
		default:
		}
		require.True(t, time.Now().Before(deadline), "syslog-ng never accepted a connection")
		time.Sleep(20 * time.Millisecond) // polling a condition with a deadline
	}
	require.NoError(t, e.pushLogs(context.Background(), makeLogs(50, "nginx")))

	var lines []string
	for len(lines) < 50 {
		require.True(t, time.Now().Before(deadline), "syslog-ng wrote %d of 50 lines", len(lines))
		time.Sleep(20 * time.Millisecond)
		data, _ := os.ReadFile(out)
		lines = nil
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
	}
	require.Len(t, lines, 50)
	metas := decodeAll(t, []byte(strings.Join(lines, "\n")+"\n"))
	require.Len(t, metas, 50)
	for _, l := range lines {
		require.NotContains(t, l, "cfjs1_ctl", "a plain receiver gets no control lines")
	}
}
