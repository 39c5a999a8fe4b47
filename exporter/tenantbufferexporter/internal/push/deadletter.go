package push

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Reasons dead letters are removed (or, too_large, never kept).
const (
	RemovedTotalBytes  = "total_bytes"  // the area's cap: the oldest letters of any tenant go first
	RemovedTenantBytes = "tenant_bytes" // the tenant's cap: its own oldest letters go first
	RemovedExpired     = "expired"      // older than the retention
	RemovedTooLarge    = "too_large"    // one batch larger than a cap: not kept at all
)

var removedReasons = [...]string{RemovedTotalBytes, RemovedTenantBytes, RemovedExpired, RemovedTooLarge}

// DeadLetterOptions bound the dead-letter area. A bound <= 0 is off.
type DeadLetterOptions struct {
	Dir            string
	MaxBytes       int64         // all tenants together
	MaxTenantBytes int64         // one tenant
	MaxAge         time.Duration // a letter older than this is removed
	NoSync         bool
	Now            func() time.Time
}

// DeadLetters is the area where batches a destination refused for good are
// parked, one directory per tenant, each batch a file and a note saying
// why (with the record count and the tenant's name, which a long name's
// directory does not show). It is bounded like the buffers themselves, so that one tenant whose
// destination rejects everything fills this area, not the disk: a cap in
// bytes for all tenants and one per tenant, and a retention. Reaching a cap
// removes the oldest letters first (the tenant's own for the tenant cap).
// Everything is counted: letters parked, bytes held, and what was removed,
// by reason.
//
// The area's bytes belong in the store's total (Bytes), so that the
// free-disk watermark sees them.
type DeadLetters struct {
	o    DeadLetterOptions
	dest *FileDestination

	mu      sync.Mutex
	queue   []*letter // every letter, oldest first; removed ones are marked gone
	head    int
	tenants map[string]*tenantLetters // by directory name
	removed [len(removedReasons)]struct{ bytes, records int64 }

	bytes         atomic.Int64
	ParkedRecords atomic.Int64
	ParkedBytes   atomic.Int64 // bytes on disk of the letters parked
}

type letter struct {
	dir     string // the tenant's directory name
	stem    string // "<first>-<next>"
	files   []string
	bytes   int64
	records int64
	at      time.Time
	gone    bool
}

type tenantLetters struct {
	letters []*letter // oldest first
	head    int
	bytes   int64
}

// OpenDeadLetters opens the area and takes stock of the letters already in
// it (from before a restart); temp files a crash left behind are removed.
func OpenDeadLetters(o DeadLetterOptions) (*DeadLetters, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &DeadLetters{o: o, tenants: map[string]*tenantLetters{},
		dest: &FileDestination{Dir: o.Dir, NoSync: o.NoSync, Format: "ndjson"}}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, err
	}
	dirs, err := os.ReadDir(o.Dir)
	if err != nil {
		return nil, err
	}
	var found []*letter
	for _, e := range dirs {
		if e.IsDir() {
			found = append(found, scanTenant(o.Dir, e.Name())...)
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].at.Before(found[j].at) })
	for _, l := range found {
		d.add(l)
	}
	d.Sweep()
	return d, nil
}

// scanTenant lists a tenant directory's letters: files grouped by the stem
// of their name (the batch file and its note).
func scanTenant(base, name string) []*letter {
	dir := filepath.Join(base, name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	byStem := map[string]*letter{}
	var out []*letter
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		stem, _, _ := strings.Cut(e.Name(), ".")
		l := byStem[stem]
		if l == nil {
			l = &letter{dir: name, stem: stem, at: info.ModTime()}
			byStem[stem] = l
			out = append(out, l)
		}
		l.files = append(l.files, e.Name())
		l.bytes += info.Size()
		if info.ModTime().After(l.at) {
			l.at = info.ModTime()
		}
		if strings.HasSuffix(e.Name(), noteSuffix) {
			l.records = noteRecords(filepath.Join(dir, e.Name()))
		}
	}
	return out
}

const noteSuffix = ".reason"

// noteRecords reads the record count a note holds ("records: N").
func noteRecords(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close() //nolint:errcheck // opened for reading
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "records: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// Park writes a batch to its tenant's area with a note of the cause, then
// makes room under the caps by removing the oldest letters (the area may
// stand one batch over its cap between the write and the removal). A batch
// larger than a cap by itself is not kept: it is removed at once and
// counted as too_large, so that the tenant's position can still move on.
func (d *DeadLetters) Park(b *Batch, cause error) error {
	if d == nil {
		return errNoArea
	}
	// The note first: the batch file's sync (and its directory's) then
	// covers it too.
	stem := string(batchName(nil, d.dest.Origin, b.First(), b.Next(), ""))
	dir, err := d.writeNote(b, stem, cause)
	if err != nil {
		return err
	}
	name := filepath.Base(dir)
	if err := d.dest.Push(context.Background(), b); err != nil {
		return err
	}
	l := &letter{dir: name, stem: stem, records: int64(len(b.Records)), at: d.o.Now()}
	for _, f := range []string{stem + ".ndjson", stem + noteSuffix} {
		if info, err := os.Stat(filepath.Join(dir, f)); err == nil {
			l.files = append(l.files, f)
			l.bytes += info.Size()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.forgetRewrittenLocked(l)
	if tooLarge(l.bytes, d.o.MaxTenantBytes) || tooLarge(l.bytes, d.o.MaxBytes) {
		d.removeFiles(l)
		d.count(RemovedTooLarge, l)
		return nil
	}
	d.ParkedRecords.Add(l.records)
	d.ParkedBytes.Add(l.bytes)
	d.add(l)
	t := d.tenants[name]
	for d.o.MaxTenantBytes > 0 && t.bytes > d.o.MaxTenantBytes {
		d.removeLocked(t.letters[t.head], RemovedTenantBytes)
	}
	for d.o.MaxBytes > 0 && d.bytes.Load() > d.o.MaxBytes {
		d.removeLocked(d.oldestLocked(), RemovedTotalBytes)
	}
	return nil
}

// forgetRewrittenLocked drops the record of a letter whose files the new
// one just replaced: the same batch parked again, after a restart that came
// before its position was committed. Only the tenant's newest letter can be
// that batch.
func (d *DeadLetters) forgetRewrittenLocked(l *letter) {
	t := d.tenants[l.dir]
	if t == nil || t.head == len(t.letters) {
		return
	}
	last := t.letters[len(t.letters)-1]
	if last.stem != l.stem {
		return
	}
	last.gone = true
	t.letters[len(t.letters)-1] = nil
	t.letters = t.letters[:len(t.letters)-1]
	t.bytes -= last.bytes
	d.bytes.Add(-last.bytes)
	if t.head == len(t.letters) {
		delete(d.tenants, l.dir)
	}
}

// writeNote writes the letter's note in the tenant's directory, making
// the directory again if it was removed with the tenant's last letter.
func (d *DeadLetters) writeNote(b *Batch, stem string, cause error) (string, error) {
	note := fmt.Sprintf("%s\nrecords: %d\ntenant: %q\n", cause.Error(), len(b.Records), b.Tenant)
	for attempt := 0; ; attempt++ {
		dir, err := d.dest.tenantDir(b.Tenant)
		if err != nil {
			return "", err
		}
		err = os.WriteFile(filepath.Join(dir, stem+noteSuffix), []byte(note), 0o640) //nolint:gosec // G306: group-readable like the dead letters it describes
		if !errors.Is(err, os.ErrNotExist) || attempt == 1 {
			return dir, err
		}
		d.dest.known.Delete(b.Tenant)
	}
}

// errNoArea: a pusher built without a dead-letter area cannot park (the
// push is counted as a dead_letter_write failure and retried).
var errNoArea = errors.New("push: no dead-letter area")

func tooLarge(n, limit int64) bool { return limit > 0 && n > limit }

// add records a letter (under mu, or before the area is shared).
func (d *DeadLetters) add(l *letter) {
	t := d.tenants[l.dir]
	if t == nil {
		t = &tenantLetters{}
		d.tenants[l.dir] = t
	}
	t.letters = append(t.letters, l)
	t.bytes += l.bytes
	d.queue = append(d.queue, l)
	d.bytes.Add(l.bytes)
}

// oldestLocked returns the oldest letter still held.
func (d *DeadLetters) oldestLocked() *letter {
	for d.queue[d.head].gone {
		d.queue[d.head] = nil
		d.head++
	}
	return d.queue[d.head]
}

// removeLocked deletes a letter's files and forgets it.
func (d *DeadLetters) removeLocked(l *letter, reason string) {
	d.removeFiles(l)
	d.count(reason, l)
	l.gone = true
	d.bytes.Add(-l.bytes)
	t := d.tenants[l.dir]
	t.bytes -= l.bytes
	for t.head < len(t.letters) && t.letters[t.head].gone {
		t.letters[t.head] = nil
		t.head++
	}
	if t.head == len(t.letters) {
		// Nothing left: forget the tenant, and its directory if empty.
		delete(d.tenants, l.dir)
		_ = os.Remove(filepath.Join(d.o.Dir, l.dir))
	} else if t.head > len(t.letters)/2 {
		t.letters = append(t.letters[:0], t.letters[t.head:]...)
		t.head = 0
	}
	if d.head > len(d.queue)/2 {
		for d.head < len(d.queue) && d.queue[d.head].gone {
			d.head++
		}
		d.queue = append(d.queue[:0], d.queue[d.head:]...)
		d.head = 0
	}
}

func (d *DeadLetters) removeFiles(l *letter) {
	dir := filepath.Join(d.o.Dir, l.dir)
	for _, f := range l.files {
		_ = os.Remove(filepath.Join(dir, f))
	}
	// The file destination remembers the tenant's directory; one removed
	// later is made again on the next park (createTemp).
}

func (d *DeadLetters) count(reason string, l *letter) {
	for i, r := range removedReasons {
		if r == reason {
			d.removed[i].bytes += l.bytes
			d.removed[i].records += l.records
		}
	}
}

// Sweep removes the letters older than the retention.
func (d *DeadLetters) Sweep() {
	if d == nil || d.o.MaxAge <= 0 {
		return
	}
	cutoff := d.o.Now().Add(-d.o.MaxAge)
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.head < len(d.queue) {
		l := d.oldestIfAny()
		if l == nil || !l.at.Before(cutoff) {
			return
		}
		d.removeLocked(l, RemovedExpired)
	}
}

// oldestIfAny is oldestLocked for a queue that may hold no live letter.
func (d *DeadLetters) oldestIfAny() *letter {
	for d.head < len(d.queue) && d.queue[d.head].gone {
		d.queue[d.head] = nil
		d.head++
	}
	if d.head == len(d.queue) {
		return nil
	}
	return d.queue[d.head]
}

// Bytes is what the dead letters hold on disk: the figure to add to the
// store's total so that the free-disk watermark and max_total_bytes see it.
// One atomic load.
func (d *DeadLetters) Bytes() int64 {
	if d == nil {
		return 0
	}
	return d.bytes.Load()
}

// DeadLetterStats is the area's state.
type DeadLetterStats struct {
	Bytes              int64
	Letters            int
	Tenants            int
	LargestTenantBytes int64
	OldestAge          time.Duration
	RemovedBytes       map[string]int64 // by reason
	RemovedRecords     map[string]int64 // by reason
}

// Stats returns the area's state (walks the tenants that hold letters).
func (d *DeadLetters) Stats() DeadLetterStats {
	if d == nil {
		return DeadLetterStats{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := DeadLetterStats{Bytes: d.bytes.Load(), Tenants: len(d.tenants),
		RemovedBytes: map[string]int64{}, RemovedRecords: map[string]int64{}}
	for _, t := range d.tenants {
		s.Letters += len(t.letters) - t.head
		s.LargestTenantBytes = max(s.LargestTenantBytes, t.bytes)
	}
	if l := d.oldestIfAny(); l != nil {
		s.OldestAge = max(d.o.Now().Sub(l.at), 0)
	}
	for i, r := range removedReasons {
		s.RemovedBytes[r] = d.removed[i].bytes
		s.RemovedRecords[r] = d.removed[i].records
	}
	return s
}
