package configguard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/featuregate"
)

// withPartialReload sets the upstream partial reload gate for one test.
func withPartialReload(t *testing.T, on bool) {
	t.Helper()
	reg := featuregate.GlobalRegistry()
	require.NoError(t, reg.Set("service.partialReload", on))
	t.Cleanup(func() { require.NoError(t, reg.Set("service.partialReload", false)) })
}

// waitLastGood waits until the last good file holds want.
func waitLastGood(t *testing.T, g *Guard, want string) {
	t.Helper()
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(g.LastGoodPath())
		return err == nil && strings.Contains(string(b), want)
	}, 20*time.Second, 5*time.Millisecond, "last good file never held %q", want)
}

func TestGoodConfigIsKeptOnceStarted(t *testing.T) {
	dir := t.TempDir()
	g := newGuard(dir, ModeRun, false)
	r := startRun(t, g, goodConfig("basic"))
	r.waitRunning()
	waitLastGood(t, g, "verbosity: basic")

	st, err := os.Stat(g.LastGoodPath())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "a resolved configuration may hold secrets")
	assert.Zero(t, g.Failures())
	assert.EqualValues(t, 1, g.LastReloadSucceeded())
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	assert.Empty(t, leftovers, "temp files of the atomic write left behind")
}

// TestBadReloadsKeepPipelinesUntouched is the reload guard with the
// upstream partial reload on (as the shipped unit runs it): a refused
// configuration resolves to the running one, which the collector sees as
// unchanged, so not even the receivers restart.
func TestBadReloadsKeepPipelinesUntouched(t *testing.T) {
	withPartialReload(t, true)
	testBadReloads(t, func(t *testing.T, startsBefore, startsAfter int64) {
		assert.Equal(t, startsBefore, startsAfter, "pipelines were restarted by a refused reload")
	})
}

// TestBadReloadsWithoutPartialReload: without the upstream gate the
// collector restarts its service on every reload; a refused one restarts it
// on the running configuration, and the process stays up.
func TestBadReloadsWithoutPartialReload(t *testing.T) {
	withPartialReload(t, false)
	testBadReloads(t, func(t *testing.T, startsBefore, startsAfter int64) {
		assert.Greater(t, startsAfter, startsBefore, "without service.partialReload every reload restarts the service")
	})
}

func testBadReloads(t *testing.T, restarts func(t *testing.T, before, after int64)) {
	dir := t.TempDir()
	g := newGuard(dir, ModeRun, false)
	r := startRun(t, g, goodConfig("basic"))
	r.waitRunning()
	waitLastGood(t, g, "verbosity: basic")
	kept, err := os.ReadFile(g.LastGoodPath())
	require.NoError(t, err)

	bad := append(badConfigs, struct{ name, content, says string }{"file removed", "", "no such file"})
	for i, b := range bad {
		before := receiverStarts.Load()
		r.reload(b.content)
		require.Eventually(t, func() bool { return g.Failures() == int64(i+1) }, 20*time.Second, 5*time.Millisecond, b.name)
		r.waitRunning()
		assert.EqualValues(t, 0, g.LastReloadSucceeded(), b.name)
		assert.True(t, r.logged("Configuration reload refused"), b.name)
		assert.NotZero(t, r.logs.FilterFieldKey("error").FilterMessageSnippet("refused").Len())
		assert.Contains(t, lastError(r), b.says, b.name)
		restarts(t, before, receiverStarts.Load())
	}
	assert.False(t, r.exited(0), "the collector exited")
	now, err := os.ReadFile(g.LastGoodPath())
	require.NoError(t, err)
	assert.Equal(t, string(kept), string(now), "a refused configuration must not replace the last good one")

	// A valid change is applied as before and becomes the last good one.
	r.reload(goodConfig("detailed"))
	waitLastGood(t, g, "verbosity: detailed")
	require.Eventually(t, func() bool { return g.LastReloadSucceeded() == 1 }, 20*time.Second, 5*time.Millisecond)
	assert.EqualValues(t, len(bad), g.Failures())
	r.waitRunning()
}

// lastError is the error field of the last refusal logged.
func lastError(r *running) string {
	all := r.logs.FilterMessageSnippet("Configuration reload refused").All()
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1].ContextMap()["error"].(string)
}

// TestStartInvalidGateOff: without logx.startWithLastGoodConfig an invalid
// configuration fails the start, as upstream, even with a last good one.
func TestStartInvalidGateOff(t *testing.T) {
	dir := t.TempDir()
	writeLastGood(t, dir)
	g := newGuard(dir, ModeRun, false)
	r := startRun(t, g, badConfigs[2].content)
	require.True(t, r.exited(20*time.Second), "the collector should fail to start")
	require.Error(t, r.result)
	assert.Contains(t, r.result.Error(), "output_paths is not supported")
	assert.Zero(t, g.Failures())
}

// TestStartInvalidGateOn: with the gate, the process starts on the last good
// configuration that a previous good run left, and says so loudly.
func TestStartInvalidGateOn(t *testing.T) {
	for _, b := range badConfigs {
		t.Run(b.name, func(t *testing.T) {
			dir := t.TempDir()
			writeLastGood(t, dir)
			g := newGuard(dir, ModeRun, true)
			r := startRun(t, g, b.content)
			r.waitRunning()
			assert.True(t, r.logged("THE CONFIGURATION IS INVALID: starting on the last good configuration"))
			// Logged once; the collector replays its start-up logs into the
			// service's logger, which the observer sees as a second copy.
			warn := r.logs.FilterMessageSnippet("THE CONFIGURATION IS INVALID").All()
			require.NotEmpty(t, warn)
			for _, w := range warn {
				require.Equal(t, warn[0].Time, w.Time, "warned more than once")
			}
			assert.Equal(t, g.LastGoodPath(), warn[0].ContextMap()["last_good_config"])
			assert.Contains(t, warn[0].ContextMap()["error"], b.says)
			assert.EqualValues(t, 1, g.Failures())
			assert.EqualValues(t, 0, g.LastReloadSucceeded(), "the configuration read is not the one running")
		})
	}
}

// TestStartInvalidGateOnWithoutLastGood: nothing to fall back to is an error.
func TestStartInvalidGateOnWithoutLastGood(t *testing.T) {
	g := newGuard(t.TempDir(), ModeRun, true)
	r := startRun(t, g, badConfigs[1].content)
	require.True(t, r.exited(20*time.Second))
	require.Error(t, r.result)
	assert.Contains(t, r.result.Error(), "the last good configuration cannot be used either")
	assert.Contains(t, r.result.Error(), "service::pipelines is empty")
}

// TestCheckModeReportsAsIs: `validate` (and any other subcommand) reports an
// invalid configuration even with the gate on, and writes nothing.
func TestCheckModeReportsAsIs(t *testing.T) {
	dir := t.TempDir()
	writeLastGood(t, dir)
	g := newGuard(dir, ModeCheck, true)
	r := startRun(t, g, badConfigs[0].content)
	require.True(t, r.exited(20*time.Second))
	require.Error(t, r.result)
	assert.Contains(t, r.result.Error(), "not a YAML map")
}

// writeLastGood leaves the last good file a previous good run writes.
func writeLastGood(t *testing.T, dir string) {
	t.Helper()
	g := newGuard(dir, ModeRun, false)
	r := startRun(t, g, goodConfig("normal"))
	r.waitRunning()
	waitLastGood(t, g, "verbosity: normal")
	r.col.Shutdown()
	require.True(t, r.exited(20*time.Second))
	require.NoError(t, r.result)
}

// TestUnchangedReloadKeepsPipelines checks what the shipped unit relies on
// service.partialReload for: a reload of an unchanged, valid configuration
// (the same path a refused one takes) goes through the upstream partial
// receiver reload with no changed receiver and starts nothing; without the
// gate the upstream collector restarts its pipelines.
func TestUnchangedReloadKeepsPipelines(t *testing.T) {
	for _, partial := range []bool{true, false} {
		t.Run(map[bool]string{true: "partial reload", false: "full reload"}[partial], func(t *testing.T) {
			withPartialReload(t, partial)
			g := newGuard(t.TempDir(), ModeRun, false)
			r := startRun(t, g, goodConfig("basic"))
			r.waitRunning()
			waitLastGood(t, g, "verbosity: basic")
			before := receiverStarts.Load()
			r.reload(goodConfig("basic"))
			if partial {
				require.Eventually(t, func() bool { return r.logged("Partial receiver reload: no receiver changes detected") },
					20*time.Second, 5*time.Millisecond)
				assert.Equal(t, before, receiverStarts.Load(), "an unchanged reload restarted the pipelines")
			} else {
				require.Eventually(t, func() bool { return receiverStarts.Load() > before }, 20*time.Second, 5*time.Millisecond,
					"without service.partialReload the upstream collector restarts the pipelines on every reload")
			}
			r.waitRunning()
			assert.Zero(t, g.Failures())
			assert.EqualValues(t, 1, g.LastReloadSucceeded())
		})
	}
}
