package externaljsonprocessor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func commandSource(name string, argv []string) SourceConfig {
	return SourceConfig{Name: name, Command: &CommandConfig{Argv: argv}, Interval: time.Hour}
}

func TestCommandJSONWithOwnEnvironment(t *testing.T) {
	// The script sees only the configured environment (HOME is not passed).
	argv := writeScript(t, `printf '{"unit":{"state":"%s","home":"%s"}}' "$STATE" "${HOME:-unset}"`)
	src := commandSource("nginx", argv)
	src.Command.Environment = map[string]string{"STATE": "active"}
	src.Mapping.Fields = []FieldConfig{{Path: "unit.state", Key: "nginx.state"}, {Path: "unit.home", Key: "home"}, {Path: "unit.missing"}}
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)
	rec, _ := h.enrich(t, nil)
	assert.Equal(t, map[string]any{"nginx.state": "active", "home": "unset"}, rec)
}

func TestCommandTextKey(t *testing.T) {
	// Like `systemctl show --property=ActiveState --value nginx`: plain text.
	stateFile := filepath.Join(t.TempDir(), "state")
	require.NoError(t, os.WriteFile(stateFile, []byte("active\n"), 0o600))
	argv := writeScript(t, `cat "`+stateFile+`"`)
	src := commandSource("nginx", argv)
	src.Command.TextKey = "nginx_state"
	src.Mapping.Target = targetResource
	src.Mapping.Prefix = "unit."
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)
	_, res := h.enrich(t, nil)
	assert.Equal(t, map[string]any{"unit.nginx_state": "active"}, res)

	require.NoError(t, os.WriteFile(stateFile, []byte("failed\n"), 0o600))
	h.src("nginx").refresh(context.Background())
	_, res = h.enrich(t, nil)
	assert.Equal(t, map[string]any{"unit.nginx_state": "failed"}, res)

	require.NoError(t, os.WriteFile(stateFile, []byte("  \n"), 0o600))
	h.src("nginx").refresh(context.Background())
	_, res = h.enrich(t, nil)
	assert.Equal(t, map[string]any{"unit.nginx_state": "failed"}, res, "blank output refused, last good kept")
	assert.EqualValues(t, 1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"reason": reasonInvalidText}))
}

func TestCommandInvalidJSONLoggedAndRefused(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	require.NoError(t, os.WriteFile(out, []byte(`{"dc":"ams","traffic":"on"}`), 0o600))
	src := commandSource("dc", writeScript(t, `cat "`+out+`"`))
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)

	require.NoError(t, os.WriteFile(out, []byte(`{"dc":"ams","traffic":`), 0o600))
	h.src("dc").refresh(context.Background())

	rec, _ := h.enrich(t, nil)
	assert.Equal(t, map[string]any{"dc": "ams", "traffic": "on"}, rec)
	errs := h.errorLogs()
	require.Len(t, errs, 1)
	assert.True(t, strings.HasPrefix(errs[0].Message, "externaljson: fetch failed or response refused; keeping the last good values, fetched "), errs[0].Message)
	ctx := errs[0].ContextMap()
	assert.Equal(t, "dc", ctx["source"])
	assert.Equal(t, reasonInvalidJSON, ctx["reason"]) //nolint:testifylint // a reason label named for JSON, not a JSON document
	assert.Contains(t, ctx["error"], "invalid JSON: unexpected EOF")
	assert.Contains(t, ctx["error"], `first bytes: "{\"dc\":\"ams\",\"traffic\":"`)
	assert.EqualValues(t, 1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"source": "dc", "reason": reasonInvalidJSON}))
}

func TestCommandExitStatus(t *testing.T) {
	src := commandSource("dc", writeScript(t, `echo "unit nginx not found" >&2; exit 3`))
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)
	assert.EqualValues(t, 1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"reason": reasonExitStatus}))
	require.Len(t, h.errorLogs(), 1)
	msg := h.errorLogs()[0].ContextMap()["error"].(string)
	assert.Contains(t, msg, "exit status 3")
	assert.Contains(t, msg, "unit nginx not found")
	assert.Contains(t, h.errorLogs()[0].Message, "no values yet")
}

func TestCommandMissingProgram(t *testing.T) {
	src := commandSource("dc", []string{filepath.Join(t.TempDir(), "no-such-program")})
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)
	assert.EqualValues(t, 1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"reason": reasonExitStatus}))
}

// processGone reports whether pid no longer runs: absent from /proc, or a
// zombie waiting for a reaper (it runs no code any more).
func processGone(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	// Field 3, after "pid (comm)", is the state.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

func TestCommandHangingIsKilledAtTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// A child in the background, the script itself blocked on it: both hang,
	// and both hold standard output open.
	argv := writeScript(t, `sleep 300 &
echo $! > "`+pidFile+`"
wait`)
	f := newCommandFetcher(&CommandConfig{Argv: argv, Timeout: 300 * time.Millisecond}, 1024)

	began := time.Now()
	_, ferr := f.fetch(context.Background(), "")
	took := time.Since(began)
	require.NotNil(t, ferr)
	assert.Equal(t, reasonTimeout, ferr.reason)
	assert.Contains(t, ferr.Error(), "process group was killed")
	assert.Less(t, took, 300*time.Millisecond+commandWaitDelay, "returns at the timeout, not when the child would finish")
	assert.GreaterOrEqual(t, took, 300*time.Millisecond)

	data, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	deadline := time.Now().Add(5 * time.Second)
	for !processGone(pid) {
		require.True(t, time.Now().Before(deadline), "child %d of the timed-out command still runs", pid)
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}

func TestCommandOversizedOutputKilled(t *testing.T) {
	// Endless output: refused and killed as soon as it passes max_size.
	argv := writeScript(t, `while :; do echo '{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":1}'; done`)
	f := newCommandFetcher(&CommandConfig{Argv: argv, Timeout: 20 * time.Second}, 4096)
	began := time.Now()
	_, ferr := f.fetch(context.Background(), "")
	require.NotNil(t, ferr)
	assert.Equal(t, reasonTooLarge, ferr.reason)
	assert.Less(t, time.Since(began), 10*time.Second, "killed at the size limit, not at the timeout")
}

func TestCommandShutdownKillsRunningCommand(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	argv := writeScript(t, `echo $$ > "`+pidFile+`.tmp" && mv "`+pidFile+`.tmp" "`+pidFile+`"
exec sleep 300`)
	src := commandSource("dc", argv)
	src.Command.Timeout = time.Minute
	h := newHarness(t, &Config{Sources: []SourceConfig{src}})
	require.NoError(t, h.e.start(context.Background(), nil))

	// Wait until the command runs (poll a condition with a deadline).
	var pid int
	deadline := time.Now().Add(10 * time.Second)
	for {
		if data, err := os.ReadFile(pidFile); err == nil {
			pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
			require.NoError(t, err)
			break
		}
		require.True(t, time.Now().Before(deadline), "command did not start")
		time.Sleep(5 * time.Millisecond)
	}
	began := time.Now()
	require.NoError(t, h.e.shutdown(context.Background()))
	assert.Less(t, time.Since(began), 5*time.Second, "shutdown does not wait for the command's timeout")
	assert.True(t, processGone(pid), "the command was killed")
	assert.Zero(t, h.counter(t, "otelcol_logx_externaljson_fetch_failures", nil), "shutdown is not a failure of the source")
}
