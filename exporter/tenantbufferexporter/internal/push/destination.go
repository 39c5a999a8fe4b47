// Package push delivers each tenant's buffered records, in batches, to the
// destination its job names (files, HTTP), with a bounded worker pool that
// is fair between tenants (deficit round robin by bytes) and a per-tenant
// backoff and circuit breaker, so that a failing or slow destination holds
// no worker away from the other tenants. A job may pace its tenants
// (requests and bytes per second), and a destination's Retry-After is
// honoured up to a cap; a tenant waiting for either holds no worker
// either. A consumer position advances only after the destination
// accepted the batch (at-least-once).
package push // import "github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/push"

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
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
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/buffers"
	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"
	jobs "github.com/otelcol-logx/otelcol-logx/internal/tenantjobs"
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
// HTTP 400 or 413): it is parked in the tenant's dead-letter area, not
// retried.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// SenderRefusedError marks a destination that refuses the sender rather
// than the batch (HTTP 401, 403, 404): expired credentials, a revoked
// permission, a moved endpoint. Someone fixes these; until then every batch
// would be refused alike, so none is parked: the tenant's breaker opens at
// once and the batch is tried again every breaker_open, its data kept in
// the buffer.
type SenderRefusedError struct{ Err error }

func (e *SenderRefusedError) Error() string { return e.Err.Error() }
func (e *SenderRefusedError) Unwrap() error { return e.Err }

// safeName makes a tenant name usable as a directory name: the name
// itself when it is short and plain, else "x-" and its bytes in hex, else
// (a name too long for that to fit a file name: tenants may have 256 bytes
// and more) "h-" and 32 hex digits of its SHA-256.
func safeName(tenant string) string {
	ok := tenant != "" && len(tenant) <= 100 && tenant[0] != '.'
	for i := 0; ok && i < len(tenant); i++ {
		c := tenant[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
	}
	switch {
	case ok:
		return tenant
	case len(tenant) <= 100:
		return fmt.Sprintf("x-%x", tenant)
	}
	sum := sha256.Sum256([]byte(tenant))
	return fmt.Sprintf("h-%x", sum[:16])
}

// FileDestination writes one file per batch in a per-tenant directory:
// temp file, fsync, rename, fsync of the directory. The name is the
// identity of the store the batch comes from and the batch's offset range,
// so a batch pushed again after a crash replaces itself, and a tenant that
// moved to another store (another tenant-tier node, whose offsets start
// again from 0) never writes over the batches pushed from the first.
//
// Per batch that is open(O_CREAT|O_EXCL), one write of the encoded batch,
// (fsync), close, rename, (directory fsync, or a share of a group syncfs):
// raw system calls on file descriptors, with no os.File (whose open on
// Linux adds fcntl and epoll_ctl calls) and no stat. Each tenant's
// directory is created once and remembered.
type FileDestination struct {
	Dir string
	// Origin is the identity of the store the batches come from (see
	// buffers.Store.ID); empty: names are the offset range alone.
	Origin      string
	Compression string // "", none, gzip, zstd
	Format      string // ndjson (default) or cfjs1
	NoSync      bool
	// GroupSync: instead of fsync of each file and its directory, one
	// syncfs of the file system, shared by the batches in flight.
	GroupSync bool

	known  sync.Map // tenant -> its directory, already created
	nKnown atomic.Int64
}

// maxKnownDirs bounds the directory cache; past it, it starts over.
const maxKnownDirs = 100_000

// tenantDir returns the tenant's directory, creating it the first time.
func (d *FileDestination) tenantDir(tenant string) (string, error) {
	if dir, ok := d.known.Load(tenant); ok {
		return dir.(string), nil
	}
	dir := filepath.Join(d.Dir, safeName(tenant))
	err := unix.Mkdir(dir, 0o750)
	switch err {
	case nil:
		// A new directory entry in the base directory: durable before a
		// batch in it counts (group mode: the syncfs covers it).
		if !d.NoSync && !d.GroupSync {
			if err := syncDir(d.Dir); err != nil {
				return "", err
			}
		}
	case unix.EEXIST:
	case unix.ENOENT: // the base directory is missing
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return "", err
		}
		if !d.NoSync && !d.GroupSync {
			if err := syncDir(filepath.Dir(d.Dir)); err != nil {
				return "", err
			}
			if err := syncDir(d.Dir); err != nil {
				return "", err
			}
		}
	default:
		return "", &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	if d.nKnown.Add(1) > maxKnownDirs {
		d.known.Clear()
		d.nKnown.Store(0)
	}
	d.known.Store(tenant, dir)
	return dir, nil
}

// batchName is "[<origin>-]<first>-<next><ext>", both offsets in 20
// digits.
func batchName(dst []byte, origin string, first, next uint64, ext string) []byte {
	if origin != "" {
		dst = append(append(dst, origin...), '-')
	}
	dst = segment.AppendPadded(dst, first)
	dst = append(dst, '-')
	dst = segment.AppendPadded(dst, next)
	return append(dst, ext...)
}

const tmpPrefix = ".tmp-"

// Push implements Destination.
func (d *FileDestination) Push(_ context.Context, b *Batch) error {
	dir, err := d.tenantDir(b.Tenant)
	if err != nil {
		return err
	}
	ext := ".ndjson"
	switch d.Compression {
	case "gzip":
		ext = ".ndjson.gz"
	case "zstd":
		ext = ".ndjson.zst"
	}
	// dir/.tmp-<name> and dir/<name> from one buffer.
	var nb [256]byte
	p := append(append(nb[:0], dir...), '/')
	p = append(p, tmpPrefix...)
	p = batchName(p, d.Origin, b.First(), b.Next(), ext)
	tmp := string(p)
	final := tmp[:len(dir)+1] + tmp[len(dir)+1+len(tmpPrefix):]
	fd, err := d.createTemp(b.Tenant, tmp)
	if err != nil {
		return err
	}
	err = d.write(fd, b)
	if err == nil && !d.NoSync && !d.GroupSync {
		err = pathErr("fsync", tmp, unix.Fsync(fd))
	}
	if cerr := unix.Close(fd); err == nil {
		err = pathErr("close", tmp, cerr)
	}
	if err == nil {
		err = pathErr("rename", final, unix.Rename(tmp, final))
	}
	if err != nil {
		_ = unix.Unlink(tmp)
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
	return syncDir(dir)
}

// createTemp creates the batch's temp file, exclusively. A temp file of the
// same name is one a crash left behind (a batch is pushed by one worker at
// a time): it is removed. A directory removed behind the cache's back is
// made again.
func (d *FileDestination) createTemp(tenant, tmp string) (int, error) {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_CLOEXEC
	for attempt := 0; ; attempt++ {
		fd, err := unix.Open(tmp, flags, 0o640)
		if err == nil || attempt == 2 {
			return fd, pathErr("open", tmp, err)
		}
		switch err {
		case unix.EEXIST:
			_ = unix.Unlink(tmp)
		case unix.ENOENT:
			d.known.Delete(tenant)
			if _, err := d.tenantDir(tenant); err != nil {
				return -1, err
			}
		case unix.EINTR:
		default:
			return -1, &os.PathError{Op: "open", Path: tmp, Err: err}
		}
	}
}

// pathErr wraps a system call's error with its operation and path (nil stays nil).
func pathErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &os.PathError{Op: op, Path: path, Err: err}
}

func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	err = unix.Fsync(fd)
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	return pathErr("fsync", dir, err)
}

// fdWriter writes to a file descriptor (for the compressors).
type fdWriter int

func (w fdWriter) Write(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Write(int(w), b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrShortWrite
		}
		n += m
	}
	return n, nil
}

// Compressors are pooled: each holds hundreds of KiB of state.
var (
	gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}
	zstdPool = sync.Pool{New: func() any {
		zw, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		return zw
	}}
)

// bufWriter appends to a pooled buffer.
type bufWriter struct{ b *[]byte }

func (w bufWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}

// write encodes the batch (and compresses it) in memory, then writes it to
// fd with one write(2).
func (d *FileDestination) write(fd int, b *Batch) error {
	buf := getBuf()
	defer putBuf(buf)
	var err error
	if *buf, err = appendBatch(*buf, d.Format, b); err != nil {
		return err
	}
	out := buf
	switch d.Compression {
	case "gzip":
		out = getBuf()
		defer putBuf(out)
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(bufWriter{out})
		_, err = zw.Write(*buf)
		err = errors.Join(err, zw.Close())
		zw.Reset(nil)
		gzipPool.Put(zw)
	case "zstd":
		out = getBuf()
		defer putBuf(out)
		zw := zstdPool.Get().(*zstd.Encoder)
		zw.Reset(bufWriter{out})
		_, err = zw.Write(*buf)
		err = errors.Join(err, zw.Close())
		zw.Reset(nil)
		zstdPool.Put(zw)
	}
	if err != nil {
		return err
	}
	_, err = fdWriter(fd).Write(*out)
	return err
}

// HTTPDestination POSTs each batch as NDJSON (or cfjs1 lines). 2xx:
// accepted; 408, 429 and 5xx: retried with backoff, 429 and 503 not
// before their Retry-After (ThrottledError); 401, 403, 404: retried
// behind the tenant's breaker (SenderRefusedError); any other status
// (400, 413, ...): permanent, parked.
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
	_ = resp.Body.Close() // drained above; only the status matters now
	status := fmt.Errorf("http %d", resp.StatusCode)
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return &ThrottledError{Err: status, RetryAfter: parseRetryAfter(resp.Header)}
	case http.StatusRequestTimeout:
		return status
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return &SenderRefusedError{status}
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500:
		return status
	}
	return &PermanentError{status}
}

// maxResponseHeaderBytes bounds what a destination's response headers
// may make the pusher read and hold (net/http allows 10 MiB by default): a
// response with more fails as a connection error would, and is retried.
const maxResponseHeaderBytes = 64 << 10

// NewDestination builds the destination of a job. A job whose TLS
// settings do not load gets a destination that fails every push with the
// reason (counted, retried with backoff, so a fixed job document heals it).
func NewDestination(j *jobs.Job) Destination {
	switch j.Destination.Type {
	case jobs.DestHTTP:
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxResponseHeaderBytes = maxResponseHeaderBytes
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
