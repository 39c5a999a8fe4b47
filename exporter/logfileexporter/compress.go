package logfileexporter

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
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
		c.e.tel.LogxLogfileCompressionErrors.Add(context.Background(), 1)
	}
}

func (c *compressor) run() {
	defer c.wg.Done()
	for job := range c.queue {
		c.e.mu.Lock()
		c.inProgress = job.src
		c.e.mu.Unlock()
		dst := job.src + c.ext
		size, err := c.compressFile(job.src, dst)
		c.e.mu.Lock()
		c.inProgress = ""
		switch {
		case err == nil:
			c.e.compressed(job, dst, c.ext, size)
		case !errors.Is(err, os.ErrNotExist): // not removed by retention meanwhile
			c.e.tel.LogxLogfileCompressionErrors.Add(context.Background(), 1)
			c.e.warn(c.e.now(), "compression failed; rotated file kept as is", job.src, err)
		}
		c.e.mu.Unlock()
	}
}

// compressed records that job's rotation is now dst, of size bytes, and
// applies retention, which counts it now. If retention removed the
// rotation meanwhile (or the path was forgotten), dst goes too.
func (e *logfileExporter) compressed(job compressJob, dst, ext string, size int64) {
	if a := e.accts[job.path]; a != nil {
		for i, f := range a.rotated {
			if f.name == job.src || f.name == dst {
				files := append([]rotatedFile(nil), a.rotated...)
				files[i].name, files[i].ext, files[i].size, files[i].gen = dst, ext, size, e.nextGen()
				e.setRotated(a, files)
				e.applyRetention(a, e.now())
				return
			}
		}
	}
	_ = os.Remove(dst)
}

// compressFile writes src compressed to dst and removes src; it returns
// dst's size.
func (c *compressor) compressFile(src, dst string) (size int64, err error) {
	in, err := openRotated(src)
	if err != nil {
		return 0, err
	}
	defer in.Close() //nolint:errcheck // opened for reading: a close error loses nothing
	st, err := in.Stat()
	if err != nil {
		return 0, err
	}
	tmp := dst + ".tmp"
	_ = os.Remove(tmp) // debris of an earlier crash
	out, err := c.e.perms.createFile(tmp)
	if err != nil {
		return 0, err
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
		return 0, err
	}
	if _, err = io.Copy(w, in); err != nil {
		return 0, err
	}
	if err = w.Close(); err != nil {
		return 0, err
	}
	if err = out.Sync(); err != nil {
		return 0, err
	}
	if st2, serr := out.Stat(); serr == nil {
		size = st2.Size()
	}
	if err = out.Close(); err != nil {
		return 0, err
	}
	// Keep the data's age: retention by max_age reads the mtime. The
	// name is ours (created with O_EXCL); a link is not followed anyway.
	ts := []unix.Timespec{unix.NsecToTimespec(st.ModTime().UnixNano()), unix.NsecToTimespec(st.ModTime().UnixNano())}
	_ = unix.UtimesNanoAt(unix.AT_FDCWD, tmp, ts, unix.AT_SYMLINK_NOFOLLOW)
	if err = os.Rename(tmp, dst); err != nil {
		return 0, err
	}
	_ = os.Remove(src) // if this fails, the next sweep counts the compressed file only
	return size, nil
}

// shutdown lets queued compressions finish, until ctx ends; files left
// are compressed at the next start (adopt).
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
