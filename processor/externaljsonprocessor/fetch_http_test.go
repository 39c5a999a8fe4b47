package externaljsonprocessor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/confighttp"
)

// statusServer is a real local HTTP endpoint whose answer the test changes.
type statusServer struct {
	*httptest.Server
	mu          sync.Mutex
	body        string
	status      int
	etag        string // sent, and honoured in If-None-Match, when set
	chunked     bool   // no Content-Length
	requests    int
	notModified int
	lastINM     string
}

func newStatusServer(t *testing.T, body string) *statusServer {
	s := &statusServer{body: body, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests++
		s.lastINM = r.Header.Get("If-None-Match")
		if s.etag != "" {
			if s.lastINM == s.etag {
				s.notModified++
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", s.etag)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		if s.chunked {
			// Write in two parts with a flush: the response is chunked.
			half := len(s.body) / 2
			_, _ = w.Write([]byte(s.body[:half]))
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte(s.body[half:]))
			return
		}
		_, _ = w.Write([]byte(s.body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *statusServer) set(f func(s *statusServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *statusServer) stats() (requests, notModified int, lastINM string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.notModified, s.lastINM
}

func httpSource(name, url string) SourceConfig {
	hc := confighttp.NewDefaultClientConfig()
	hc.Endpoint = url
	return SourceConfig{Name: name, HTTP: &hc, Interval: time.Hour}
}

func TestHTTPRefreshAndFailureKeepsLastGood(t *testing.T) {
	srv := newStatusServer(t, `{"status":"up","traffic":true,"weight":3,"dc":{"name":"ams","ratio":0.5}}`)
	src := httpSource("dc", srv.URL)
	src.Mapping.Prefix = "dc."
	src.Guard.MaxFieldLoss = ptr(1.0) // the source shrinks on purpose below; the shrink guard has its own tests
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)

	rec, _ := h.enrich(t, map[string]any{"msg": "x"})
	assert.Equal(t, map[string]any{
		"msg": "x", "dc.status": "up", "dc.traffic": true, "dc.weight": int64(3),
		"dc.dc.name": "ams", "dc.dc.ratio": 0.5,
	}, rec, "first fetch (during start) enriches the very first record")

	// The source changes: the next refresh brings the new value.
	srv.set(func(s *statusServer) { s.body = `{"status":"drain"}` })
	h.src("dc").refresh(context.Background())
	rec, _ = h.enrich(t, nil)
	assert.Equal(t, map[string]any{"dc.status": "drain"}, rec)

	// Failures of every kind keep the last good values and are counted.
	failures := []struct {
		name, reason, logged string
		set                  func(*statusServer)
	}{
		{"500", reasonHTTPStatus, "status 500", func(s *statusServer) { s.status = 500 }},
		{"invalid json", reasonInvalidJSON, "invalid JSON", func(s *statusServer) { s.status, s.body = 200, `{"status": "up",` }},
		{"array", reasonNotObject, "not an object", func(s *statusServer) { s.body = `["up"]` }},
		{"trailing data", reasonInvalidJSON, "data after the object", func(s *statusServer) { s.body = `{"status":"up"} {"x":1}` }},
		{"blank object", reasonNoFields, "yields no fields", func(s *statusServer) { s.body = `{}` }},
	}
	perReason := map[string]int{}
	for i, f := range failures {
		perReason[f.reason]++
		srv.set(f.set)
		h.src("dc").refresh(context.Background())
		rec, _ = h.enrich(t, nil)
		assert.Equal(t, map[string]any{"dc.status": "drain"}, rec, "%s: last good values kept", f.name)
		assert.EqualValues(t, perReason[f.reason], h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"source": "dc", "reason": f.reason}), f.name)
		errs := h.errorLogs()
		require.Len(t, errs, i+1, f.name)
		last := errs[i]
		assert.Contains(t, last.Message, "keeping the last good values", f.name)
		assert.Equal(t, f.reason, last.ContextMap()["reason"], f.name)
		assert.Contains(t, last.ContextMap()["error"], f.logged, f.name)
		assert.Equal(t, "dc", last.ContextMap()["source"], f.name)
	}
	assert.EqualValues(t, 2, h.counter(t, "otelcol_logx_externaljson_fetch_successes", map[string]string{"source": "dc"}))

	// The same failure again: counted, but logged at debug level only.
	h.src("dc").refresh(context.Background())
	assert.Len(t, h.errorLogs(), len(failures))
	assert.EqualValues(t, 2, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"reason": reasonNoFields}))
	assert.Equal(t, int64(len(failures)+1), h.logs.FilterMessageSnippet("fetch failed").All()[len(failures)].ContextMap()["failures_in_a_row"])

	// The source is unreachable: still the last good values.
	srv.Close()
	h.src("dc").refresh(context.Background())
	rec, _ = h.enrich(t, nil)
	assert.Equal(t, map[string]any{"dc.status": "drain"}, rec)
	assert.EqualValues(t, 1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"reason": reasonTransport}))
}

func TestHTTPETagNotModified(t *testing.T) {
	srv := newStatusServer(t, `{"status":"up"}`)
	srv.set(func(s *statusServer) { s.etag = `"v1"` })
	clock := newFakeClock()
	src := httpSource("dc", srv.URL)
	src.Interval, src.MaxAge = time.Minute, 5*time.Minute
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.e.now = clock.Now
	h.start(t)

	reqs, nm, inm := srv.stats()
	require.Equal(t, 1, reqs)
	assert.Equal(t, 0, nm)
	assert.Empty(t, inm, "no ETag known before the first response")

	// Unchanged: the server answers 304 to our If-None-Match, values stay,
	// and their age restarts (a 304 is a successful fetch).
	for range 3 {
		clock.Advance(4 * time.Minute)
		h.src("dc").refresh(context.Background())
	}
	reqs, nm, inm = srv.stats()
	assert.Equal(t, 4, reqs)
	assert.Equal(t, 3, nm, "304 answered")
	assert.Equal(t, `"v1"`, inm)
	rec, _ := h.enrich(t, nil)
	assert.Equal(t, map[string]any{"status": "up"}, rec, "12 minutes of 304s: still fresh (max_age 5m), never stale")
	assert.EqualValues(t, 4, h.counter(t, "otelcol_logx_externaljson_fetch_successes", nil))
	age, ok := h.src("dc").age(clock.Now())
	require.True(t, ok)
	assert.Zero(t, age)

	// Changed: new ETag, new body.
	srv.set(func(s *statusServer) { s.etag, s.body = `"v2"`, `{"status":"down"}` })
	h.src("dc").refresh(context.Background())
	rec, _ = h.enrich(t, nil)
	assert.Equal(t, map[string]any{"status": "down"}, rec)
	h.src("dc").refresh(context.Background())
	_, nm, inm = srv.stats()
	assert.Equal(t, 4, nm)
	assert.Equal(t, `"v2"`, inm)
}

func TestHTTPOversizedBodyRefused(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		name := "content-length"
		if chunked {
			name = "chunked"
		}
		t.Run(name, func(t *testing.T) {
			srv := newStatusServer(t, `{"status":"up"}`)
			srv.set(func(s *statusServer) { s.chunked = chunked })
			src := httpSource("dc", srv.URL)
			src.MaxSize = 64
			h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
			h.start(t)

			// Exactly max_size is accepted.
			exact := `{"status":"` + strings.Repeat("a", 64-len(`{"status":""}`)) + `"}`
			require.Len(t, exact, 64)
			srv.set(func(s *statusServer) { s.body = exact })
			h.src("dc").refresh(context.Background())
			rec, _ := h.enrich(t, nil)
			assert.Equal(t, strings.Repeat("a", 51), rec["status"])

			// One byte more is refused, the last good values stay.
			srv.set(func(s *statusServer) { s.body = `{"status":"` + strings.Repeat("b", 52) + `"}` })
			h.src("dc").refresh(context.Background())
			rec, _ = h.enrich(t, nil)
			assert.Equal(t, strings.Repeat("a", 51), rec["status"])
			assert.EqualValues(t, 1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"reason": reasonTooLarge}))
			require.NotEmpty(t, h.errorLogs())
			assert.Contains(t, h.errorLogs()[0].ContextMap()["error"], "over max_size 64")
		})
	}
}

func TestHTTPHeadersFromConfig(t *testing.T) {
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("X-Token")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	src := httpSource("dc", srv.URL)
	src.HTTP.Headers.Set("X-Token", "s3cret")
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	h.start(t)
	assert.Equal(t, "s3cret", <-got)
}

func TestHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	src := httpSource("dc", srv.URL)
	src.HTTP.Timeout = 100 * time.Millisecond
	h := newHarness(t, &Config{Sources: []SourceConfig{src}, StartupWait: 5 * time.Second})
	began := time.Now()
	h.start(t)
	assert.Less(t, time.Since(began), 3*time.Second)
	assert.EqualValues(t, 1, h.counter(t, "otelcol_logx_externaljson_fetch_failures", map[string]string{"reason": reasonTimeout}))
	rec, _ := h.enrich(t, map[string]any{"a": "b"})
	assert.Equal(t, map[string]any{"a": "b"}, rec, "no values yet: the record passes unchanged")
}
