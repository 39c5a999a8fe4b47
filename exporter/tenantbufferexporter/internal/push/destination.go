// Package push delivers each tenant's buffered records, in batches, to the
// destination its job names (files, HTTP), with a bounded worker pool that
// is fair between tenants (deficit round robin by bytes) and a per-tenant
// backoff and circuit breaker, so that a failing or slow destination holds
// no worker away from the other tenants. A consumer position advances only
// after the destination accepted the batch (at-least-once).
package push // import "github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/push"

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/jobs"
)

// Batch is what one push delivers.
type Batch struct {
	Tenant  string
	Records []buffers.Record
	Bytes   int // payload bytes
}

// First and Next are the stream offsets the batch covers.
func (b *Batch) First() uint64 { return b.Records[0].Offset }

// Next is the offset after the batch's last record.
func (b *Batch) Next() uint64 { return b.Records[len(b.Records)-1].Next }

// Destination accepts batches.
type Destination interface {
	Push(ctx context.Context, b *Batch) error
}

// PermanentError marks a batch the destination will never accept (e.g. an
// HTTP 400): it is parked in the tenant's dead-letter area, not retried.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// safeName makes a tenant name usable as a directory name.
func safeName(tenant string) string {
	ok := tenant != "" && len(tenant) <= 100 && tenant[0] != '.'
	for i := 0; ok && i < len(tenant); i++ {
		c := tenant[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
	}
	if ok {
		return tenant
	}
	return fmt.Sprintf("x-%x", tenant)
}

// FileDestination writes one file per batch in a per-tenant directory:
// temp file, fsync, rename, fsync of the directory. The name is the batch's
// offset range, so a batch pushed again after a crash replaces itself.
type FileDestination struct {
	Dir         string
	Compression string // "", none, gzip, zstd
	Format      string // ndjson (default) or cfjs1
	NoSync      bool
	// GroupSync: instead of fsync of each file and its directory, one
	// syncfs of the file system, shared by the batches in flight.
	GroupSync bool

	known  sync.Map // tenant directories already created
	nKnown atomic.Int64
}

// maxKnownDirs bounds the directory cache; past it, it starts over.
const maxKnownDirs = 100_000

func (d *FileDestination) ensureDir(dir string) error {
	if _, ok := d.known.Load(dir); ok {
		return nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	if d.nKnown.Add(1) > maxKnownDirs {
		d.known.Clear()
		d.nKnown.Store(0)
	}
	d.known.Store(dir, struct{}{})
	return nil
}

// Push implements Destination.
func (d *FileDestination) Push(_ context.Context, b *Batch) error {
	dir := filepath.Join(d.Dir, safeName(b.Tenant))
	if err := d.ensureDir(dir); err != nil {
		return err
	}
	ext := ".ndjson"
	switch d.Compression {
	case "gzip":
		ext += ".gz"
	case "zstd":
		ext += ".zst"
	}
	name := fmt.Sprintf("%020d-%020d%s", b.First(), b.Next(), ext)
	final := filepath.Join(dir, name)
	tmp := filepath.Join(dir, ".tmp-"+name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if errors.Is(err, os.ErrNotExist) { // removed behind the cache's back
		d.known.Delete(dir)
		if err = d.ensureDir(dir); err == nil {
			f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
		}
	}
	if err != nil {
		return err
	}
	err = d.write(f, b)
	if err == nil && !d.NoSync && !d.GroupSync {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if d.NoSync {
		return nil
	}
	if d.GroupSync {
		// One syncfs makes the file's data and both directory entries
		// (the rename) durable before the caller moves the position.
		return syncerFor(d.Dir).Sync()
	}
	df, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer df.Close()
	return df.Sync()
}

func (d *FileDestination) write(f *os.File, b *Batch) error {
	buf := getBuf()
	defer putBuf(buf)
	var err error
	if *buf, err = appendBatch(*buf, d.Format, b); err != nil {
		return err
	}
	switch d.Compression {
	case "gzip":
		zw := gzip.NewWriter(f)
		_, err = zw.Write(*buf)
		return errors.Join(err, zw.Close())
	case "zstd":
		zw, err := zstd.NewWriter(f, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return err
		}
		_, err = zw.Write(*buf)
		return errors.Join(err, zw.Close())
	}
	_, err = f.Write(*buf)
	return err
}

// HTTPDestination POSTs each batch as NDJSON (or cfjs1 lines). 2xx:
// accepted; 429 and 5xx: retried with backoff; any other status: permanent
// (parked).
type HTTPDestination struct {
	URL     string
	Headers map[string]string
	Format  string // ndjson (default) or cfjs1
	Client  *http.Client
}

// Push implements Destination.
func (d *HTTPDestination) Push(ctx context.Context, b *Batch) error {
	buf := getBuf()
	defer putBuf(buf)
	var err error
	if *buf, err = appendBatch(*buf, d.Format, b); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(*buf))
	if err != nil {
		return &PermanentError{err}
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	for k, v := range d.Headers {
		req.Header.Set(k, v)
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("http %d", resp.StatusCode)
	}
	return &PermanentError{fmt.Errorf("http %d", resp.StatusCode)}
}

// NewDestination builds the destination of a job. A job whose TLS
// settings do not load gets a destination that fails every push with the
// reason (counted, retried with backoff, so a fixed job document heals it).
func NewDestination(j *jobs.Job) Destination {
	switch j.Destination.Type {
	case jobs.DestHTTP:
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if strings.HasPrefix(j.Destination.URL, "https:") {
			tc, err := tlsConfig(j.Destination.TLS)
			if err != nil {
				return failingDestination{fmt.Errorf("job %s: tls: %w", j.Name, err)}
			}
			tr.TLSClientConfig = tc
		}
		return &HTTPDestination{URL: j.Destination.URL, Headers: j.Destination.Headers, Format: j.Destination.Format,
			Client: &http.Client{Timeout: j.Destination.Timeout, Transport: tr}}
	default:
		noSync := j.Destination.Fsync != nil && !*j.Destination.Fsync
		return &FileDestination{Dir: j.Destination.Path, Compression: strings.TrimPrefix(j.Destination.Compression, "none"),
			Format: j.Destination.Format, NoSync: noSync, GroupSync: j.Destination.FsyncMode != jobs.FsyncFile}
	}
}

// tlsConfig loads a job's TLS settings through configtls.
func tlsConfig(t jobs.TLS) (*tls.Config, error) {
	c := configtls.NewDefaultClientConfig()
	c.CAFile, c.CAPem = t.CAFile, configopaque.String(t.CAPem)
	c.CertFile, c.CertPem = t.CertFile, configopaque.String(t.CertPem)
	c.KeyFile, c.KeyPem = t.KeyFile, configopaque.String(t.KeyPem)
	if t.MinVersion != "" {
		c.MinVersion = t.MinVersion
	}
	c.ServerName = t.ServerName
	c.InsecureSkipVerify = t.InsecureSkipVerify
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c.LoadTLSConfig(context.Background())
}

type failingDestination struct{ err error }

func (f failingDestination) Push(context.Context, *Batch) error { return f.err }
