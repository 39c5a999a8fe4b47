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

// Dir reads the journal files of one or more directories, or a fixed set
// of files, as one stream: it merges their entries (by seqnum between
// files of the same seqnum id, as journald numbers the entries of all its
// files from one counter; else by monotonic time within a boot, else by
// realtime) and, on Refresh, follows appends, picks up files that appear
// (a rotation archives system.journal under a new name and starts a new
// one) and drops files that were archived and read to the end. Not safe
// for concurrent use.
type Dir struct {
	src    Sources
	opts   Options
	dec    *decoders
	files  []*dirFile
	dirs   map[string]*scanDir // directories scanned for files, by path
	open   map[ID128]bool      // file ids read, so a renamed (archived) file is not read twice
	bad    map[string]int64    // files that failed to open, by size: retried when it changes
	errs   []error
	watch  *watcher
	last   Entry // header of the entry Next returned last, to skip its copy in another file
	lastOK bool
}

// scanDir is a directory whose journal files a Dir reads.
type scanDir struct {
	root      bool      // a root: its machine-id subdirectories are read too
	missingOK bool      // a root that may not exist (the system journal's /run and /var)
	mtime     time.Time // at the last scan
	scanned   time.Time // when it was last scanned
	gone      bool      // a subdirectory that was removed
}

// Sources are the files a Dir reads, chosen as journalctl chooses them.
type Sources struct {
	// Roots are directories whose journal files are read, and those of
	// their subdirectories named by a machine id (32 hex digits), as
	// journalctl --directory reads them: /var/log/journal holds one
	// subdirectory per machine.
	Roots []string
	// Machine, if not zero, keeps only the subdirectory of this machine
	// id (journalctl's default: the local machine's journal).
	Machine ID128
	// MissingOK: roots that do not exist are skipped (the system
	// journal's /run/log/journal and /var/log/journal), not an error.
	MissingOK bool
	// Files, if set, are read instead of directories (journalctl --file):
	// no other file is picked up, and a file is not dropped once read.
	Files []string
}

// SystemSources are the local machine's journal, as journalctl reads it
// without --directory or --file: the subdirectory of the machine id in
// /run/log/journal (volatile) and /var/log/journal (persistent).
func SystemSources() (Sources, error) {
	b, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		return Sources{}, fmt.Errorf("reading the machine id: %w", err)
	}
	var id ID128
	if err := parseID(strings.TrimSpace(string(b)), &id); err != nil {
		return Sources{}, fmt.Errorf("/etc/machine-id: %w", err)
	}
	return Sources{Roots: []string{"/run/log/journal", "/var/log/journal"}, Machine: id, MissingOK: true}, nil
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

// OpenDir opens the *.journal files of dir and of its machine-id
// subdirectories, as journalctl --directory does. Files it cannot read
// (not a journal file, unsupported flags, corrupt header) are skipped and
// reported by FileErrors.
func OpenDir(dir string, opts Options) (*Dir, error) {
	return OpenSources(Sources{Roots: []string{dir}}, opts)
}

// OpenSources opens the journal files src names. A root that does not
// exist is an error unless src.MissingOK; a file of src.Files that cannot
// be opened is an error.
func OpenSources(src Sources, opts Options) (*Dir, error) {
	opts = opts.withDefaults()
	d := &Dir{src: src, opts: opts, dec: &decoders{maxOut: uint64(opts.MaxEntryBytes)},
		dirs: map[string]*scanDir{}, open: map[ID128]bool{}, bad: map[string]int64{}}
	if len(src.Files) > 0 {
		for _, p := range src.Files {
			f, err := Open(p, opts)
			if err != nil {
				_ = d.Close()
				return nil, err
			}
			f.dec = d.dec
			d.files = append(d.files, &dirFile{File: f, name: filepath.Base(p)})
		}
		return d, nil
	}
	if len(src.Roots) == 0 {
		return nil, errors.New("no journal directory or file to read")
	}
	for _, r := range src.Roots {
		d.dirs[r] = &scanDir{root: true, missingOK: src.MissingOK}
	}
	if err := d.scan(); err != nil {
		_ = d.Close()
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

// scan opens the journal files not open yet in each directory that
// changed (a file was created, renamed or removed) or holds a file that
// failed to open before. A file that failed is tried again only once its
// size changed: journald creates a file before it writes its header. A
// fixed set of files is not scanned.
func (d *Dir) scan() error {
	if len(d.src.Files) > 0 {
		return nil
	}
	// Roots first: they add the subdirectories scanned after them.
	for _, root := range []bool{true, false} {
		for p, sd := range d.dirs {
			if sd.root != root {
				continue
			}
			if err := d.scanDir(p, sd); err != nil {
				return err
			}
		}
	}
	for p, sd := range d.dirs {
		if sd.gone {
			delete(d.dirs, p)
		}
	}
	return nil
}

func (d *Dir) scanDir(path string, sd *scanDir) error {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && (sd.missingOK || !sd.root) {
			sd.gone = !sd.root
			return nil
		}
		return err
	}
	// File times are as coarse as the kernel's tick: a change in the same
	// tick as the last scan leaves the time as it was. So an unchanged
	// time means nothing changed only once it is well before that scan.
	now := time.Now()
	if st.ModTime().Equal(sd.mtime) && sd.mtime.Before(sd.scanned.Add(-time.Second)) && !d.badIn(path) {
		return nil
	}
	sd.mtime, sd.scanned = st.ModTime(), now
	des, err := os.ReadDir(path)
	if err != nil {
		if sd.missingOK || !sd.root {
			return nil
		}
		return err
	}
	for _, de := range des {
		name := de.Name()
		if sd.root && de.IsDir() && d.wantSubdir(name) {
			sub := filepath.Join(path, name)
			if _, ok := d.dirs[sub]; !ok {
				d.dirs[sub] = &scanDir{}
				if d.watch != nil {
					if err := d.watch.add(sub); err != nil {
						d.errs = append(d.errs, err)
					}
				}
			}
			continue
		}
		if !de.Type().IsRegular() || !(strings.HasSuffix(name, ".journal") || strings.HasSuffix(name, ".journal~")) {
			continue
		}
		d.openFile(filepath.Join(path, name), name)
	}
	return nil
}

// wantSubdir says whether a root's subdirectory holds journal files to
// read: one named by a machine id (not a namespace's "id.namespace"),
// the local one only when Sources.Machine is set.
func (d *Dir) wantSubdir(name string) bool {
	var id ID128
	if len(name) != 32 || parseID(name, &id) != nil {
		return false
	}
	return d.src.Machine == ID128{} || id == d.src.Machine
}

// badIn says whether a file in dir failed to open before.
func (d *Dir) badIn(dir string) bool {
	for p := range d.bad {
		if filepath.Dir(p) == dir {
			return true
		}
	}
	return false
}

// openFile opens a journal file found by a scan, unless it is open
// already (under this name or another).
func (d *Dir) openFile(p, name string) {
	st, err := os.Stat(p)
	if err != nil {
		return // removed meanwhile
	}
	if size, ok := d.bad[p]; ok && size == st.Size() {
		return
	}
	if id, err := fileID(p); err == nil && d.open[id] {
		return
	}
	f, err := Open(p, d.opts)
	if err != nil {
		d.bad[p] = st.Size()
		d.errs = append(d.errs, err)
		return
	}
	delete(d.bad, p)
	if d.open[f.hdr.FileID] {
		_ = f.Close()
		return
	}
	f.dec = d.dec
	d.open[f.hdr.FileID] = true
	d.files = append(d.files, &dirFile{File: f, name: name})
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
		if f.hdr.State == StateArchived && f.Remaining() == 0 && len(d.src.Files) == 0 {
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

// Seek makes Next return the entries after c, in every file. found
// reports whether c's entry itself is in one of the files (by seqnum id
// and seqnum): if not, it was vacuumed, or c is not from these files.
func (d *Dir) Seek(c Cursor) (found bool, err error) {
	for _, f := range d.files {
		ok, err := f.Seek(c)
		if err != nil {
			return false, fmt.Errorf("%s: %w", f.path, err)
		}
		found = found || ok
		f.headOK = false
	}
	d.lastOK = false
	return found, nil
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
	for {
		if err := d.next(e); err != errDuplicate {
			return err
		}
	}
}

// errDuplicate: next skipped a copy of the entry it returned last.
var errDuplicate = errors.New("duplicate entry")

func (d *Dir) next(e *Entry) error {
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
	if d.lastOK && sameEntry(&best.head, &d.last) {
		// The same entry in another file (journald copies /run's
		// entries to /var when it flushes): journalctl shows it once.
		best.pos++
		return errDuplicate
	}
	if err := best.Next(e); err != nil {
		return err
	}
	d.last = Entry{SeqnumID: e.SeqnumID, Seqnum: e.Seqnum, Realtime: e.Realtime, Monotonic: e.Monotonic, BootID: e.BootID, XorHash: e.XorHash}
	d.lastOK = true
	return nil
}

// sameEntry says whether two entries of different files are copies of
// one entry, as journalctl decides: it skips an entry that sits at the
// position of the one it just showed.
func sameEntry(a, b *Entry) bool {
	if a.SeqnumID == b.SeqnumID {
		return a.Seqnum == b.Seqnum
	}
	return a.BootID == b.BootID && a.Realtime == b.Realtime && a.XorHash == b.XorHash
}
