package logfileexporter

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// compressQueueLen bounds rotated files waiting for compression; beyond
// it a file stays uncompressed (counted), rather than rotation waiting.
const compressQueueLen = 256

// compressor compresses rotated files in one background goroutine, so that
// writing never waits for it. Output is a plain gzip or zstd stream that
// zcat and zstdcat read; it is written to a ".tmp" name and renamed when
// complete, so a half-written archive never looks finished.
type compressor struct {
	e     *logfileExporter
	ext   string // ".gz", ".zst", "" for none
	queue chan compressJob
	wg    sync.WaitGroup
	once  sync.Once
	// inProgress names the source file being compressed (under e.mu), so
	// that a scan does not take its ".tmp" for debris.
	inProgress string
}

type compressJob struct {
	src  string // the rotated file
	path string // the live path it belongs to (accounting, retention)
}

func newCompressor(e *logfileExporter) *compressor {
	c := &compressor{e: e, queue: make(chan compressJob, compressQueueLen)}
	switch e.cfg.Rotation.Compression {
	case compressionGzip:
		c.ext = ".gz"
	case compressionZstd:
		c.ext = ".zst"
	default:
		return c
	}
	c.wg.Add(1)
	go c.run()
	return c
}

// enqueue schedules src; false (and a count) when the queue is full.
func (c *compressor) enqueue(src, path string) {
	if c.ext == "" {
		return
	}
	select {
	case c.queue <- compressJob{src: src, path: path}:
	default:
		c.e.tel.CompressionErrors.Add(context.Background(), 1)
	}
}

func (c *compressor) run() {
	defer c.wg.Done()
	for job := range c.queue {
		c.e.mu.Lock()
		c.inProgress = job.src
		c.e.mu.Unlock()
		err := c.compressFile(job.src, job.src+c.ext)
		c.e.mu.Lock()
		c.inProgress = ""
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			c.e.tel.CompressionErrors.Add(context.Background(), 1)
			c.e.warn(c.e.now(), "compression failed; rotated file kept as is", job.src, err)
		}
		// Recount the path's rotated bytes and apply retention, which
		// now sees the compressed file.
		c.e.applyRetention(job.path, c.e.now())
		c.e.mu.Unlock()
	}
}

func (c *compressor) compressFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	tmp := dst + ".tmp"
	_ = os.Remove(tmp) // debris of an earlier crash
	out, err := c.e.perms.createFile(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = out.Close()
			_ = os.Remove(tmp)
		}
	}()
	var w io.WriteCloser
	if c.ext == ".gz" {
		w, err = gzip.NewWriterLevel(out, gzip.DefaultCompression)
	} else {
		w, err = zstd.NewWriter(out, zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	}
	if err != nil {
		return err
	}
	if _, err = io.Copy(w, in); err != nil {
		return err
	}
	if err = w.Close(); err != nil {
		return err
	}
	if err = out.Sync(); err != nil {
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	// Keep the data's age: retention by max_age reads the mtime.
	_ = os.Chtimes(tmp, st.ModTime(), st.ModTime())
	if err = os.Rename(tmp, dst); err != nil {
		return err
	}
	return os.Remove(src)
}

// shutdown lets queued compressions finish, until ctx ends; files left
// are compressed at the next start (adoptRotated).
func (c *compressor) shutdown(ctx context.Context) error {
	c.once.Do(func() { close(c.queue) })
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
