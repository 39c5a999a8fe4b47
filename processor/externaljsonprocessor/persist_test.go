package externaljsonprocessor

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPersistenceEnrichesAfterRestartWhileSourceDown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	srv := newStatusServer(t, `{"status":"up"}`)
	srv.set(func(s *statusServer) { s.etag = `"e1"` })
	clock := newFakeClock()
	src := httpSource("dc", srv.URL)
	src.Interval, src.MaxAge = time.Minute, 10*time.Minute
	cfg := &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second, Persistence: PersistenceConfig{Directory: dir}}

	first := newHarness(t, cfg)
	first.e.now = clock.Now
	first.start(t)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "one file, no temporary left behind")
	assert.Equal(t, "dc.json", entries[0].Name())

	// Restart while the source is down: the persisted values enrich at once,
	// with their original age.
	srv.Close()
	clock.Advance(3 * time.Minute)
	second := newHarness(t, cfg)
	second.e.now = clock.Now
	second.start(t)
	rec, _ := second.enrich(t, map[string]any{"m": 1})
	assert.Equal(t, map[string]any{"m": int64(1), "status": "up"}, rec)
	age, ok := second.src("dc").age(clock.Now())
	require.True(t, ok)
	assert.Equal(t, 3*time.Minute, age)
	assert.Equal(t, `"e1"`, second.src("dc").etag, "ETag restored for the next If-None-Match")

	// Restored values older than max_age are stale from the start.
	clock.Advance(10 * time.Minute)
	third := newHarness(t, cfg)
	third.e.now = clock.Now
	third.start(t)
	rec, _ = third.enrich(t, nil)
	assert.Equal(t, map[string]any{"status": "up", defaultStaleAttribute: true}, rec)
}

func TestPersistenceIgnoresBadFiles(t *testing.T) {
	dir := t.TempDir()
	srv := newStatusServer(t, `{}`)
	srv.set(func(s *statusServer) { s.status = 500 })
	cfg := &Config{Sources: []SourceConfig{httpSource("dc", srv.URL)}, StartupWait: 5 * time.Second, Persistence: PersistenceConfig{Directory: dir}}
	for _, content := range []string{
		`not json`,
		`{"fetched_at":"2026-01-01T00:00:00Z","body":"bm90IGpzb24="}`, // body "not json"
	} {
		require.NoError(t, os.WriteFile(persistFile(dir, "dc"), []byte(content), 0o600))
		h := newHarness(t, cfg)
		h.start(t)
		rec, _ := h.enrich(t, nil)
		assert.Empty(t, rec)
		assert.Len(t, h.logs.FilterMessageSnippet("ignoring").All(), 1, content)
	}
}

func TestSavePersistedIsAtomic(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, savePersisted(dir, "dc", persistedState{Body: []byte(`{"a":1}`)}))
	require.NoError(t, savePersisted(dir, "dc", persistedState{Body: []byte(`{"a":2}`)}))
	st, ok, err := loadPersisted(dir, "dc", 1024)
	require.NoError(t, err)
	require.True(t, ok)
	assert.JSONEq(t, `{"a":2}`, string(st.Body))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}
