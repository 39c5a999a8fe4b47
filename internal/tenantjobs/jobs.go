// Package tenantjobs is the tenant job configuration of the push side: which
// tenant (or tenant prefix) is pushed where, in what batches. The
// tenantbuffer exporter delivers by it; the tenantfilter processor reads
// the same document to drop, early, the records of tenants without a job. A new
// document is checked before use: blank, unparsable, invalid (including
// what the exporter's Rules forbid: plain http, unverified TLS, files
// outside the allowed root), or taking away more than a set fraction of
// the coverage in force (tenants and where they go), it is refused and the
// last good table stays in force.
package tenantjobs // import "github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Destination types.
const (
	DestFile = "file"
	DestHTTP = "http"
)

// Job is one push job.
type Job struct {
	Name        string      `yaml:"name"`
	Tenant      string      `yaml:"tenant"` // exact tenant, or
	Prefix      string      `yaml:"prefix"` // every tenant starting with this
	Destination Destination `yaml:"destination"`
	Batch       Batch       `yaml:"batch"`
}

// Destination says where a job's batches go.
type Destination struct {
	Type        string            `yaml:"type"`        // file | http
	Path        string            `yaml:"path"`        // file: base directory (a sub-directory per tenant)
	Compression string            `yaml:"compression"` // file: none | gzip | zstd
	Fsync       *bool             `yaml:"fsync"`       // file: sync each file before the position moves (default true)
	URL         string            `yaml:"url"`         // http
	Headers     map[string]string `yaml:"headers"`     // http
	Timeout     time.Duration     `yaml:"timeout"`     // http, default 10s
	// Format of the lines of a batch: ndjson (one OTLP-JSON LogsData per
	// record, the default) or cfjs1.
	Format string `yaml:"format"`
	// FsyncMode (file, when fsync is on): group (default) makes the files
	// of all batches in flight durable with one syncfs of the destination
	// file system; file syncs each file and its directory.
	FsyncMode string `yaml:"fsync_mode"`
	// TLS (http, https urls): the keys of configtls.ClientConfig.
	TLS TLS `yaml:"tls"`
	// Pace bounds how fast each tenant of the job is pushed (zero: no
	// bound). Not part of the coverage the shrink guard compares.
	Pace Pace `yaml:"pace"`
}

// Pace bounds how fast each tenant of a job is pushed; a zero field is no
// bound.
type Pace struct {
	MaxRequestsPerSecond float64 `yaml:"max_requests_per_second"`
	MaxBytesPerSecond    int64   `yaml:"max_bytes_per_second"`
	Burst                int     `yaml:"burst"`
}

// check refuses a pace that cannot be meant: it would either never let a
// push go or stand for "no bound" in a way a reader would not guess.
func (p Pace) check() error {
	r := p.MaxRequestsPerSecond
	switch {
	case math.IsNaN(r) || math.IsInf(r, 0) || r < 0 || (r > 0 && r < 0.001):
		return fmt.Errorf("pace.max_requests_per_second %v: write a positive number (e.g. 5, or 0.5 for one every two seconds, at least 0.001), or leave it out for no bound", r)
	case p.MaxBytesPerSecond < 0 || (p.MaxBytesPerSecond > 0 && p.MaxBytesPerSecond < 1024):
		return fmt.Errorf("pace.max_bytes_per_second %d: write bytes per second, at least 1024 (e.g. 1048576), or leave it out for no bound", p.MaxBytesPerSecond)
	case p.Burst < 0 || p.Burst > 1000:
		return fmt.Errorf("pace.burst %d: write a number of pushes from 0 to 1000 (default 1)", p.Burst)
	}
	return nil
}

// Line formats of a batch.
const (
	FormatNDJSON = "ndjson"
	FormatCFJS1  = "cfjs1"
)

// Fsync modes of the file destination.
const (
	FsyncGroup = "group"
	FsyncFile  = "file"
)

// TLS mirrors the keys of configtls.ClientConfig (the job document is
// YAML, not collector config); push turns it into a configtls.ClientConfig.
type TLS struct {
	CAFile             string `yaml:"ca_file"`
	CAPem              string `yaml:"ca_pem"`
	CertFile           string `yaml:"cert_file"`
	CertPem            string `yaml:"cert_pem"`
	KeyFile            string `yaml:"key_file"`
	KeyPem             string `yaml:"key_pem"`
	MinVersion         string `yaml:"min_version"`
	ServerName         string `yaml:"server_name_override"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Batch bounds a batch: whichever limit is reached first closes it.
type Batch struct {
	MaxRecords  int           `yaml:"max_records"`
	MaxBytes    int           `yaml:"max_bytes"`
	MaxInterval time.Duration `yaml:"max_interval"`
}

type document struct {
	Jobs []Job `yaml:"jobs"`
}

// Table maps tenants to jobs: exact names by map, prefixes by one map per
// distinct prefix length, so a lookup costs a few map probes whatever the
// number of jobs (docs/design.md, principle 5).
type Table struct {
	jobs     []Job
	exact    map[string]*Job
	prefixes map[int]map[string]*Job
	lengths  []int // distinct prefix lengths, longest first
}

// Len is the number of jobs.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.jobs)
}

// Jobs returns the jobs (do not modify).
func (t *Table) Jobs() []Job { return t.jobs }

// Lookup returns the job of a tenant: the exact job, else the longest prefix.
func (t *Table) Lookup(tenant string) (*Job, bool) {
	if t == nil {
		return nil, false
	}
	if j, ok := t.exact[tenant]; ok {
		return j, true
	}
	for _, n := range t.lengths {
		if n <= len(tenant) {
			if j, ok := t.prefixes[n][tenant[:n]]; ok {
				return j, true
			}
		}
	}
	return nil, false
}

// Reasons a new document is refused.
var (
	ErrBlank   = errors.New("jobs: blank document")
	ErrParse   = errors.New("jobs: document does not parse")
	ErrInvalid = errors.New("jobs: invalid job")
	ErrShrink  = errors.New("jobs: document removes too many jobs")
	// ErrRedirect: the tenants stay but too many would go elsewhere.
	ErrRedirect = errors.New("jobs: document sends too many tenants elsewhere")
)

// Reason names the refusal for a metric attribute.
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrBlank):
		return "blank"
	case errors.Is(err, ErrParse):
		return "parse"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	case errors.Is(err, ErrShrink):
		return "removes_too_many"
	case errors.Is(err, ErrRedirect):
		return "redirects_too_many"
	}
	return "fetch"
}

// Parse builds a table from a YAML (or JSON) document; every job must keep
// to the rules.
func Parse(data []byte, rules Rules) (*Table, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrBlank
	}
	var doc document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrParse, err)
	}
	if len(doc.Jobs) == 0 {
		// A document that parses but lists nothing is the incident's blank
		// config: refused like an empty file.
		return nil, ErrBlank
	}
	t := &Table{jobs: doc.Jobs, exact: map[string]*Job{}, prefixes: map[int]map[string]*Job{}}
	names := map[string]bool{}
	for i := range t.jobs {
		j := &t.jobs[i]
		if err := j.check(&rules); err != nil {
			return nil, fmt.Errorf("%w: job %d (%q): %v", ErrInvalid, i, j.Name, err)
		}
		if names[j.Name] {
			return nil, fmt.Errorf("%w: job name %q used twice", ErrInvalid, j.Name)
		}
		names[j.Name] = true
		if j.Tenant != "" {
			if _, dup := t.exact[j.Tenant]; dup {
				return nil, fmt.Errorf("%w: tenant %q has two jobs", ErrInvalid, j.Tenant)
			}
			t.exact[j.Tenant] = j
			continue
		}
		m := t.prefixes[len(j.Prefix)]
		if m == nil {
			m = map[string]*Job{}
			t.prefixes[len(j.Prefix)] = m
			t.lengths = append(t.lengths, len(j.Prefix))
		}
		if _, dup := m[j.Prefix]; dup {
			return nil, fmt.Errorf("%w: prefix %q has two jobs", ErrInvalid, j.Prefix)
		}
		m[j.Prefix] = j
	}
	sort.Sort(sort.Reverse(sort.IntSlice(t.lengths)))
	return t, nil
}

func (j *Job) check(rules *Rules) error {
	if j.Name == "" {
		return errors.New("name is empty")
	}
	if strings.ContainsAny(j.Name, "/\\\x00") {
		return errors.New("name must not contain / or \\")
	}
	if (j.Tenant == "") == (j.Prefix == "") {
		return errors.New("set exactly one of tenant and prefix")
	}
	switch j.Destination.Type {
	case DestFile:
		if err := rules.checkPath(j.Destination.Path); err != nil && !rules.SelectorsOnly {
			return err
		}
		j.Destination.Path = filepath.Clean(j.Destination.Path)
		switch j.Destination.Compression {
		case "", "none", "gzip", "zstd":
		default:
			return fmt.Errorf("compression %q: write none, gzip or zstd", j.Destination.Compression)
		}
	case DestHTTP:
		u, err := url.Parse(j.Destination.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("http destination needs an https url, got %q", j.Destination.URL)
		}
		if err := rules.checkTransport(j.Name, u.Scheme, j.Destination.TLS.InsecureSkipVerify); err != nil && !rules.SelectorsOnly {
			return err
		}
		switch {
		case j.Destination.Timeout == 0:
			j.Destination.Timeout = 10 * time.Second
		case j.Destination.Timeout < 0:
			return fmt.Errorf("timeout %v: write a positive duration, e.g. 10s (a push with no timeout could hold a worker for ever)", j.Destination.Timeout)
		}
	default:
		return fmt.Errorf("destination type %q: write file or http", j.Destination.Type)
	}
	switch j.Destination.Format {
	case "":
		j.Destination.Format = FormatNDJSON
	case FormatNDJSON, FormatCFJS1:
	default:
		return fmt.Errorf("format %q: write ndjson or cfjs1", j.Destination.Format)
	}
	switch j.Destination.FsyncMode {
	case "":
		j.Destination.FsyncMode = FsyncGroup
	case FsyncGroup, FsyncFile:
	default:
		return fmt.Errorf("fsync_mode %q: write group or file", j.Destination.FsyncMode)
	}
	if err := j.Destination.Pace.check(); err != nil {
		return err
	}
	return j.Batch.check()
}

// check fills in the defaults of a batch; a negative bound is refused
// rather than read as "use the default".
func (b *Batch) check() error {
	switch {
	case b.MaxRecords < 0:
		return fmt.Errorf("batch.max_records %d: write a positive number, e.g. 10000", b.MaxRecords)
	case b.MaxBytes < 0:
		return fmt.Errorf("batch.max_bytes %d: write a positive number, e.g. 8388608", b.MaxBytes)
	case b.MaxInterval < 0:
		return fmt.Errorf("batch.max_interval %v: write a positive duration, e.g. 30s", b.MaxInterval)
	}
	if b.MaxRecords == 0 {
		b.MaxRecords = 10000
	}
	if b.MaxBytes == 0 {
		b.MaxBytes = 8 << 20
	}
	if b.MaxInterval == 0 {
		b.MaxInterval = 30 * time.Second
	}
	return nil
}

// Accept checks a freshly parsed table against the one in force by what
// they cover, not by job names: each tenant or prefix a job selects, and
// where it sends it. The new table is refused when more than maxRemoved (a
// fraction, e.g. 0.1) of the current coverage would be lost: selectors no
// longer there (ErrShrink), or still there but sent to another destination
// (ErrRedirect). Growth is always accepted; so is anything when no table
// is in force yet.
func Accept(current, next *Table, maxRemoved float64) error {
	if current.Len() == 0 {
		return nil
	}
	now, then := current.coverage(), next.coverage()
	removed, redirected := 0, 0
	for sel, dest := range now {
		switch d, ok := then[sel]; {
		case !ok:
			removed++
		case d != dest:
			redirected++
		}
	}
	allowed := maxRemoved * float64(len(now))
	switch {
	case float64(removed) > allowed:
		return fmt.Errorf("%w: %d of %d tenants and prefixes in force would have no job (at most %.0f%% may)",
			ErrShrink, removed, len(now), maxRemoved*100)
	case float64(removed+redirected) > allowed:
		return fmt.Errorf("%w: %d of %d tenants and prefixes in force would lose their job and %d would go to another destination (at most %.0f%% may change at once)",
			ErrRedirect, removed, len(now), redirected, maxRemoved*100)
	}
	return nil
}

// coverage maps each selector ("tenant:x", "prefix:y") to the identity of
// its destination.
func (t *Table) coverage() map[string]string {
	out := make(map[string]string, len(t.jobs))
	for i := range t.jobs {
		j := &t.jobs[i]
		sel := "tenant:" + j.Tenant
		if j.Tenant == "" {
			sel = "prefix:" + j.Prefix
		}
		out[sel] = j.Destination.identity()
	}
	return out
}

// identity is where a destination delivers: its type and path or URL
// (scheme, host, path). Headers, timeouts and batch sizes may change
// freely: rotating a credential is no move.
func (d *Destination) identity() string {
	if d.Type == DestFile {
		return "file " + filepath.Clean(d.Path)
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return "http " + d.URL
	}
	return "http " + strings.ToLower(u.Scheme+"://"+u.Host) + u.EscapedPath()
}
