package tenantjobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// testRules allow the documents of these tests: files under /tmp, and
// plain http for the job named shops.
var testRules = Rules{FileRoot: "/tmp", AllowInsecure: []string{"shops"}}

const twoJobs = `
jobs:
  - name: acme
    tenant: acme
    destination: {type: file, path: /tmp/out, compression: gzip}
    batch: {max_records: 100, max_interval: 1s}
  - name: shops
    prefix: shop-
    destination: {type: http, url: "http://127.0.0.1:1/push"}
`

func TestParseAndLookup(t *testing.T) {
	tb, err := Parse([]byte(twoJobs), testRules)
	if err != nil {
		t.Fatal(err)
	}
	if j, ok := tb.Lookup("acme"); !ok || j.Name != "acme" || j.Batch.MaxRecords != 100 {
		t.Fatalf("acme: %+v", j)
	}
	if j, ok := tb.Lookup("shop-17"); !ok || j.Name != "shops" || j.Destination.Timeout == 0 || j.Batch.MaxBytes == 0 {
		t.Fatalf("prefix: %+v", j)
	}
	if _, ok := tb.Lookup("shop"); ok {
		t.Fatal("shorter than the prefix matched")
	}
	if _, ok := tb.Lookup("other"); ok {
		t.Fatal("tenant without a job matched")
	}
}

func TestDestinationDefaultsAndTLS(t *testing.T) {
	tb, err := Parse([]byte(`jobs:
- {name: f, tenant: f, destination: {type: file, path: /tmp/x}}
- {name: h, tenant: h, destination: {type: http, url: "https://h.test/in", format: cfjs1, tls: {ca_file: /ca.pem, server_name_override: h.test, min_version: "1.3"}}}
`), testRules)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := tb.Lookup("f")
	if f.Destination.Format != FormatNDJSON || f.Destination.FsyncMode != FsyncGroup {
		t.Fatalf("file defaults: format %q fsync_mode %q", f.Destination.Format, f.Destination.FsyncMode)
	}
	h, _ := tb.Lookup("h")
	if h.Destination.Format != FormatCFJS1 || h.Destination.TLS.CAFile != "/ca.pem" ||
		h.Destination.TLS.ServerName != "h.test" || h.Destination.TLS.MinVersion != "1.3" {
		t.Fatalf("http: %+v", h.Destination)
	}
}

func TestParseRefusals(t *testing.T) {
	for doc, want := range map[string]error{
		"":                  ErrBlank,
		"   \n\t":           ErrBlank,
		"jobs: []":          ErrBlank,
		"{}":                ErrBlank,
		"jobs: [":           ErrParse,
		"jobz: []":          ErrParse,
		"jobs: [{name: a}]": ErrInvalid,
		"jobs: [{name: a, tenant: x, destination: {type: ftp}}]":                                                       ErrInvalid,
		"jobs: [{name: a, tenant: x, prefix: y, destination: {type: file, path: /tmp/x}}]":                             ErrInvalid,
		"jobs: [{name: a, tenant: x, destination: {type: file, path: /tmp/x, compression: lz4}}]":                      ErrInvalid,
		"jobs: [{name: a, tenant: x, destination: {type: file, path: /tmp/x, format: xml}}]":                           ErrInvalid,
		"jobs: [{name: a, tenant: x, destination: {type: file, path: /tmp/x, fsync_mode: never}}]":                     ErrInvalid,
		"jobs: [{name: a, tenant: x, destination: {type: file, path: /tmp/x, pace: {max_requests_per_second: -1}}}]":   ErrInvalid,
		"jobs: [{name: a, tenant: x, destination: {type: file, path: /tmp/x, pace: {max_requests_per_second: .nan}}}]": ErrInvalid,
		"jobs: [{name: a, tenant: x, destination: {type: file, path: /tmp/x, pace: {max_bytes_per_second: 10}}}]":      ErrInvalid,
		"jobs: [{name: a, tenant: x, destination: {type: file, path: /tmp/x, pace: {burst: 5000}}}]":                   ErrInvalid,
	} {
		if _, err := Parse([]byte(doc), testRules); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", doc, err, want)
		}
	}
}

func TestPaceParsed(t *testing.T) {
	tab, err := Parse([]byte("jobs: [{name: a, tenant: x, destination: {type: file, path: /tmp/x, pace: {max_requests_per_second: 0.5, max_bytes_per_second: 1048576, burst: 10}}}]"), testRules)
	if err != nil {
		t.Fatal(err)
	}
	j, ok := tab.Lookup("x")
	if !ok || j.Destination.Pace != (Pace{MaxRequestsPerSecond: 0.5, MaxBytesPerSecond: 1 << 20, Burst: 10}) {
		t.Fatalf("pace: %+v", j)
	}
}

func manyJobs(n int) string {
	var b strings.Builder
	b.WriteString("jobs:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: j%d, tenant: t%d, destination: {type: file, path: /tmp/x}}\n", i, i)
	}
	return b.String()
}

func TestHolderGuard(t *testing.T) {
	var doc atomic.Value
	doc.Store(manyJobs(20))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, doc.Load().(string))
	}))
	defer srv.Close()
	h := NewHolder(&Source{URL: srv.URL}, 0.1, testRules)
	var refused []string
	h.OnRefused = func(err error) { refused = append(refused, Reason(err)) }
	ctx := context.Background()
	if err := h.Reload(ctx); err != nil || h.Table().Len() != 20 {
		t.Fatalf("first load: %v", err)
	}
	for _, bad := range []string{"", "jobs: [", manyJobs(17)} { // 17 of 20: 15% removed
		doc.Store(bad)
		if err := h.Reload(ctx); err == nil {
			t.Fatalf("%q accepted", bad)
		}
		if h.Table().Len() != 20 {
			t.Fatal("last good table not kept")
		}
	}
	doc.Store(manyJobs(18)) // 10% removed: allowed
	if err := h.Reload(ctx); err != nil || h.Table().Len() != 18 {
		t.Fatalf("10%% shrink refused: %v", err)
	}
	doc.Store(manyJobs(50)) // growth is always fine
	if err := h.Reload(ctx); err != nil || h.Table().Len() != 50 {
		t.Fatalf("growth refused: %v", err)
	}
	if strings.Join(refused, ",") != "blank,parse,removes_too_many" {
		t.Fatalf("refusals %v", refused)
	}
	srv.Close()
	if err := h.Reload(ctx); err == nil || Reason(err) != "fetch" || h.Table().Len() != 50 {
		t.Fatalf("unreachable source: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(twoJobs))
	f.Add([]byte("jobs: [{name: a, prefix: p, destination: {type: file, path: /tmp/x}}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := Parse(b, testRules)
		if err == nil && tb.Len() == 0 {
			t.Fatal("empty table accepted")
		}
	})
}

// The last good document survives a restart: it is saved whole, installed
// before the first reload, and a blank document fetched then is refused
// against it instead of leaving no table.
func TestLastGoodAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	jobsFile, kept := dir+"/jobs.yaml", dir+"/last-good.yaml"
	if err := os.WriteFile(jobsFile, []byte(manyJobs(5)), 0o600); err != nil {
		t.Fatal(err)
	}
	first := NewHolder(&Source{File: jobsFile}, 0.1, testRules)
	first.OnLoaded = func(_ *Table, doc []byte) {
		if err := SaveLastGood(kept, doc); err != nil {
			t.Error(err)
		}
	}
	if err := first.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jobsFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	restarted := NewHolder(&Source{File: jobsFile}, 0.1, testRules)
	if _, err := restarted.InstallLastGood(dir + "/none.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if tb, err := restarted.InstallLastGood(kept); err != nil || tb.Len() != 5 {
		t.Fatalf("install: %v", err)
	}
	if err := restarted.Reload(context.Background()); Reason(err) != "blank" || restarted.Table().Len() != 5 {
		t.Fatalf("blank after restart: %v, %d jobs", err, restarted.Table().Len())
	}
}
