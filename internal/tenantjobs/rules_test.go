package tenantjobs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Each thing a job document may not ask for is refused as invalid, with a
// message that says what to write instead.
func TestRulesRefusals(t *testing.T) {
	rules := Rules{FileRoot: "/srv/logpush", Reserved: []string{"/srv/logpush/state"}, AllowInsecure: []string{"lab"}}
	for _, c := range []struct{ job, want string }{
		{`{name: a, tenant: a, destination: {type: http, url: "https://h.test/in", timeout: -1s}}`,
			"timeout -1s: write a positive duration"},
		{`{name: a, tenant: a, destination: {type: http, url: "http://h.test/in"}}`,
			`url scheme "http": logs would travel in clear text; write an https:// url, or name job "a" in push.destinations.allow_insecure_jobs`},
		{`{name: a, tenant: a, destination: {type: http, url: "https://h.test/in", tls: {insecure_skip_verify: true}}}`,
			`tls.insecure_skip_verify: refused; give the server's CA in tls.ca_file or tls.ca_pem, or name job "a" in push.destinations.allow_insecure_jobs`},
		{`{name: a, tenant: a, destination: {type: file, path: /etc/cron.d}}`,
			`path "/etc/cron.d" is outside push.destinations.file_root "/srv/logpush"; write a path under it`},
		{`{name: a, tenant: a, destination: {type: file, path: /srv/logpush/../../etc}}`,
			`is outside push.destinations.file_root`},
		{`{name: a, tenant: a, destination: {type: file, path: /srv/logpushx}}`,
			`is outside push.destinations.file_root`},
		{`{name: a, tenant: a, destination: {type: file, path: srv/logpush/a}}`,
			`path "srv/logpush/a": write an absolute path under push.destinations.file_root`},
		{`{name: a, tenant: a, destination: {type: file, path: /srv/logpush/state/deadletter}}`,
			`overlaps the exporter's own directory "/srv/logpush/state"; write a path outside it`},
		{`{name: a, tenant: a, destination: {type: file, path: /srv/logpush/a}, batch: {max_records: -5}}`,
			"batch.max_records -5: write a positive number"},
		{`{name: a, tenant: a, destination: {type: file, path: /srv/logpush/a}, batch: {max_interval: -1s}}`,
			"batch.max_interval -1s: write a positive duration"},
	} {
		_, err := Parse([]byte("jobs: ["+c.job+"]"), rules)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got  %v\n want %s", c.job, err, c.want)
		}
	}
	// With no file root, file destinations are off, and the message says
	// which option turns them on.
	_, err := Parse([]byte(`jobs: [{name: a, tenant: a, destination: {type: file, path: /srv/logpush/a}}]`), Rules{})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "file destinations are off; set push.destinations.file_root") {
		t.Errorf("no root: %v", err)
	}
}

// What the rules allow is accepted: a job named in allow_insecure_jobs may
// use http and skip verification; a path under the root (even written with
// "..") is fine and is kept cleaned; a positive timeout is kept.
func TestRulesAllow(t *testing.T) {
	rules := Rules{FileRoot: "/srv/logpush/", AllowInsecure: []string{"lab"}}
	tb, err := Parse([]byte(`jobs:
- {name: lab, tenant: lab, destination: {type: http, url: "http://127.0.0.1:9/in", tls: {insecure_skip_verify: true}, timeout: 3s}}
- {name: f, tenant: f, destination: {type: file, path: /srv/logpush/x/../y/}}
- {name: root, tenant: r, destination: {type: file, path: /srv/logpush}}
`), rules)
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := tb.Lookup("lab"); j.Destination.Timeout != 3*time.Second {
		t.Fatalf("timeout %v", j.Destination.Timeout)
	}
	if j, _ := tb.Lookup("f"); j.Destination.Path != "/srv/logpush/y" {
		t.Fatalf("path %q", j.Destination.Path)
	}
}

func jobsTo(n int, tenant func(i int) string, dest func(i int) string) string {
	var b strings.Builder
	b.WriteString("jobs:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: j%d, tenant: %s, destination: %s}\n", i, tenant(i), dest(i))
	}
	return b.String()
}

// The shrink guard compares what the documents cover, not job names: a
// document that keeps every name but changes the tenants, or sends them
// elsewhere, is refused; new headers or batch sizes are not a change of
// coverage.
func TestAcceptComparesCoverage(t *testing.T) {
	tenant := func(i int) string { return fmt.Sprint("t", i) }
	file := func(i int) string { return fmt.Sprintf("{type: file, path: /tmp/out/%d}", i) }
	parse := func(doc string) *Table {
		t.Helper()
		tb, err := Parse([]byte(doc), testRules)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	current := parse(jobsTo(20, tenant, file))

	sameNamesOtherTenants := parse(jobsTo(20, func(i int) string { return fmt.Sprint("other", i) }, file))
	err := Accept(current, sameNamesOtherTenants, 0.1)
	if !errors.Is(err, ErrShrink) || Reason(err) != "removes_too_many" || !strings.Contains(err.Error(), "20 of 20 tenants and prefixes in force would have no job") {
		t.Fatalf("same names, other tenants: %v", err)
	}
	sameNamesOtherPlace := parse(jobsTo(20, tenant, func(i int) string { return "{type: file, path: /tmp/elsewhere}" }))
	err = Accept(current, sameNamesOtherPlace, 0.1)
	if !errors.Is(err, ErrRedirect) || Reason(err) != "redirects_too_many" || !strings.Contains(err.Error(), "20 would go to another destination") {
		t.Fatalf("same names, other destination: %v", err)
	}
	// Different names, same coverage: nothing is lost.
	renamed := parse(strings.ReplaceAll(jobsTo(20, tenant, file), "name: j", "name: renamed-"))
	if err := Accept(current, renamed, 0.1); err != nil {
		t.Fatalf("renamed jobs refused: %v", err)
	}
	// Two of 20 moved (10%): allowed; three: refused.
	moved := func(k int) *Table {
		return parse(jobsTo(20, tenant, func(i int) string {
			if i < k {
				return "{type: file, path: /tmp/moved}"
			}
			return file(i)
		}))
	}
	if err := Accept(current, moved(2), 0.1); err != nil {
		t.Fatalf("10%% moved refused: %v", err)
	}
	if err := Accept(current, moved(3), 0.1); !errors.Is(err, ErrRedirect) {
		t.Fatalf("15%% moved: %v", err)
	}
	// HTTP: headers and timeouts may change; host or path may not.
	h := func(url, extra string) func(int) string {
		return func(int) string { return fmt.Sprintf(`{type: http, url: %q %s}`, url, extra) }
	}
	web := parse(jobsTo(5, tenant, h("https://in.test/logs", "")))
	if err := Accept(web, parse(jobsTo(5, tenant, h("HTTPS://IN.test/logs", `, headers: {Authorization: "Bearer new"}, timeout: 3s`))), 0.1); err != nil {
		t.Fatalf("new credentials refused: %v", err)
	}
	if err := Accept(web, parse(jobsTo(5, tenant, h("https://evil.test/logs", ""))), 0.1); !errors.Is(err, ErrRedirect) {
		t.Fatalf("another host: %v", err)
	}
	if err := Accept(web, parse(jobsTo(5, tenant, h("https://in.test/other", ""))), 0.1); !errors.Is(err, ErrRedirect) {
		t.Fatalf("another path: %v", err)
	}
}

// A reader that delivers nowhere accepts the destinations the exporter's
// rules would refuse (the exporter refuses them itself), but not a job of
// the wrong shape.
func TestSelectorsOnlySkipsDestinationChecks(t *testing.T) {
	doc := `jobs:
- {name: a, tenant: a, destination: {type: file, path: /etc/anywhere}}
- {name: b, prefix: b-, destination: {type: http, url: "http://plain.test/in", tls: {insecure_skip_verify: true}}}
`
	if _, err := Parse([]byte(doc), Rules{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("strict rules: %v", err)
	}
	tb, err := Parse([]byte(doc), Rules{SelectorsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tb.Lookup("b-1"); !ok || tb.Len() != 2 {
		t.Fatalf("jobs %d", tb.Len())
	}
	for _, bad := range []string{
		`jobs: [{name: a, destination: {type: file, path: /x}}]`,
		`jobs: [{name: a, tenant: a, destination: {type: ftp}}]`,
		`jobs: [{name: a, tenant: a, destination: {type: http, url: "ftp://x/y"}}]`,
	} {
		if _, err := Parse([]byte(bad), Rules{SelectorsOnly: true}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
