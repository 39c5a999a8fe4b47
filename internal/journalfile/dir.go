package journalfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Dir reads the journal files of one directory as one stream: it merges
// their entries (by seqnum between files of the same seqnum id, as journald
// numbers the entries of all its files from one counter; else by monotonic
// time within a boot, else by realtime)
// and, on Refresh, follows appends, picks up files that appear (a rotation
// archives system.journal under a new name and starts a new one) and drops
// files that were archived and read to the end. Not safe for concurrent
// use.
type Dir struct {
	path  string
	opts  Options
	dec   *decoders
	files []*dirFile
	open  map[ID128]bool   // file ids read, so a renamed (archived) file is not read twice
	bad   map[string]int64 // files that failed to open, by size: retried when it changes
	mtime time.Time        // of the directory at the last scan
	errs  []error
	watch *watcher
}

// fileID reads a file's id from its header without mapping it: a scan
// skips files already read that way, under whatever name rotation gave
// them (an inode would not do: vacuuming frees inodes for reuse).
func fileID(p string) (ID128, error) {
	var id ID128
	f, err := os.Open(p)
	if err != nil {
		return id, err
	}
	defer f.Close() //nolint:errcheck // opened for reading
	var hdr [hdrFileID + 16]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return id, err
	}
	if string(hdr[:8]) != signature {
		return id, corruptf("no journal file signature")
	}
	copy(id[:], hdr[hdrFileID:])
	return id, nil
}

type dirFile struct {
	*File
	head    Entry // the entry Next would return, without fields
	headOK  bool
	headErr error
	name    string
}

// OpenDir opens the *.journal files of dir. Files it cannot read (not a
// journal file, unsupported flags, corrupt header) are skipped and reported
// by FileErrors.
func OpenDir(dir string, opts Options) (*Dir, error) {
	opts = opts.withDefaults()
	d := &Dir{path: dir, opts: opts, dec: &decoders{maxOut: uint64(opts.MaxEntryBytes)},
		open: map[ID128]bool{}, bad: map[string]int64{}}
	if err := d.scan(); err != nil {
		return nil, err
	}
	return d, nil
}

// FileErrors returns, and forgets, why files were skipped since the last
// call.
func (d *Dir) FileErrors() []error {
	errs := d.errs
	d.errs = nil
	return errs
}

// Files are the paths of the files being read, for tests and logs.
func (d *Dir) Files() []string {
	var out []string
	for _, f := range d.files {
		out = append(out, f.path)
	}
	return out
}

// Close closes every file.
func (d *Dir) Close() error {
	var err error
	for _, f := range d.files {
		err = errors.Join(err, f.Close())
	}
	d.files = nil
	d.dec.close()
	if d.watch != nil {
		err = errors.Join(err, d.watch.close())
		d.watch = nil
	}
	return err
}

// scan opens the directory's journal files not open yet, when the
// directory changed (a file was created, renamed or removed) or a file
// failed to open before. A file that failed is tried again only once its
// size changed: journald creates a file before it writes its header.
func (d *Dir) scan() error {
	st, err := os.Stat(d.path)
	if err != nil {
		return err
	}
	if st.ModTime().Equal(d.mtime) && len(d.bad) == 0 {
		return nil
	}
	d.mtime = st.ModTime()
	des, err := os.ReadDir(d.path)
	if err != nil {
		return err
	}
	for _, de := range des {
		name := de.Name()
		if !de.Type().IsRegular() || !(strings.HasSuffix(name, ".journal") || strings.HasSuffix(name, ".journal~")) {
			continue
		}
		p := filepath.Join(d.path, name)
		st, err := os.Stat(p)
		if err != nil {
			continue // removed meanwhile
		}
		if size, ok := d.bad[p]; ok && size == st.Size() {
			continue
		}
		if id, err := fileID(p); err == nil && d.open[id] {
			continue
		}
		f, err := Open(p, d.opts)
		if err != nil {
			d.bad[p] = st.Size()
			d.errs = append(d.errs, err)
			continue
		}
		delete(d.bad, p)
		if d.open[f.hdr.FileID] {
			_ = f.Close()
			continue
		}
		f.dec = d.dec
		d.open[f.hdr.FileID] = true
		d.files = append(d.files, &dirFile{File: f, name: name})
	}
	return nil
}

// Refresh picks up what was appended to the open files, opens new files and
// closes those archived and read to the end. Entries returned before are
// invalid afterwards.
func (d *Dir) Refresh() error {
	kept := d.files[:0]
	for _, f := range d.files {
		err := f.Refresh()
		f.headOK, f.headErr = false, nil
		if err != nil {
			d.errs = append(d.errs, fmt.Errorf("%s: %w", f.path, err))
			_ = f.Close()
			continue
		}
		if f.hdr.State == StateArchived && f.Remaining() == 0 {
			_ = f.Close() // its id stays in d.open: the file is done
			continue
		}
		kept = append(kept, f)
	}
	clear(d.files[len(kept):])
	d.files = kept
	return d.scan()
}

// SeekTail makes Next return only entries appended from now on.
func (d *Dir) SeekTail() {
	for _, f := range d.files {
		f.SeekTail()
		f.headOK = false
	}
}

// Seek makes Next return the entries after c, in every file.
func (d *Dir) Seek(c Cursor) error {
	for _, f := range d.files {
		if _, err := f.Seek(c); err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		f.headOK = false
	}
	return nil
}

// before orders the heads of two files as journalctl does: by seqnum
// within one seqnum id, by monotonic time within one boot, else by
// realtime.
func before(a, b *Entry) bool {
	if a.SeqnumID == b.SeqnumID {
		return a.Seqnum < b.Seqnum
	}
	if a.BootID == b.BootID && a.Monotonic != b.Monotonic {
		return a.Monotonic < b.Monotonic
	}
	return a.Realtime < b.Realtime
}

// Next reads the next entry of the directory into e; io.EOF when every
// file is read to its end (Refresh, then try again). An error about one
// entry leaves the reader after it, like File.Next; a file whose entry
// array chain is broken is dropped with the error.
func (d *Dir) Next(e *Entry) error {
	var best *dirFile
	for i := 0; i < len(d.files); i++ {
		f := d.files[i]
		if !f.headOK {
			f.headErr = f.peek(&f.head)
			f.headOK = true
		}
		if f.headErr == io.EOF {
			continue
		}
		if f.headErr != nil {
			if f.err != nil { // the chain: nothing more comes from this file
				err := fmt.Errorf("%s: %w", f.path, f.headErr)
				_ = f.Close()
				d.files = append(d.files[:i], d.files[i+1:]...)
				return err
			}
			// One corrupt entry object: step over it.
			f.pos++
			f.headOK = false
			return fmt.Errorf("%s: %w", f.path, f.headErr)
		}
		if best == nil || before(&f.head, &best.head) {
			best = f
		}
	}
	if best == nil {
		return io.EOF
	}
	best.headOK = false
	return best.Next(e)
}
