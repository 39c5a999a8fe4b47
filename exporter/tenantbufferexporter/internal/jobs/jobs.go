// Package jobs is the tenant job configuration of the push side: which
// tenant (or tenant prefix) is pushed where, in what batches. A new
// document is checked before use: blank, unparsable, invalid, or removing
// more than a set fraction of the current jobs, it is refused and the last
// good table stays in force.
package jobs // import "github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/jobs"

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
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
	}
	return "fetch"
}

// Parse builds a table from a YAML (or JSON) document.
func Parse(data []byte) (*Table, error) {
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
		if err := j.check(); err != nil {
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

func (j *Job) check() error {
	if j.Name == "" {
		return errors.New("name is empty")
	}
	if (j.Tenant == "") == (j.Prefix == "") {
		return errors.New("set exactly one of tenant and prefix")
	}
	switch j.Destination.Type {
	case DestFile:
		if j.Destination.Path == "" {
			return errors.New("file destination needs a path")
		}
		switch j.Destination.Compression {
		case "", "none", "gzip", "zstd":
		default:
			return fmt.Errorf("compression %q: write none, gzip or zstd", j.Destination.Compression)
		}
	case DestHTTP:
		u, err := url.Parse(j.Destination.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("http destination needs an http(s) url, got %q", j.Destination.URL)
		}
		if j.Destination.Timeout == 0 {
			j.Destination.Timeout = 10 * time.Second
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
	if j.Batch.MaxRecords <= 0 {
		j.Batch.MaxRecords = 10000
	}
	if j.Batch.MaxBytes <= 0 {
		j.Batch.MaxBytes = 8 << 20
	}
	if j.Batch.MaxInterval <= 0 {
		j.Batch.MaxInterval = 30 * time.Second
	}
	if strings.ContainsAny(j.Name, "/\\\x00") {
		return errors.New("name must not contain / or \\")
	}
	return nil
}

// Accept checks a freshly parsed table against the one in force: it is
// refused when it would remove more than maxRemoved (a fraction, e.g. 0.1)
// of the current jobs. A job counts as kept when a job of the same name
// exists in the new table.
func Accept(current, next *Table, maxRemoved float64) error {
	if current.Len() == 0 {
		return nil
	}
	kept := map[string]bool{}
	for _, j := range next.jobs {
		kept[j.Name] = true
	}
	removed := 0
	for _, j := range current.jobs {
		if !kept[j.Name] {
			removed++
		}
	}
	if float64(removed) > maxRemoved*float64(current.Len()) {
		return fmt.Errorf("%w: %d of %d jobs would go (at most %.0f%% may)", ErrShrink, removed, current.Len(), maxRemoved*100)
	}
	return nil
}
