package tenantjobs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// Source fetches the job document: a file, or an HTTP(S) URL.
type Source struct {
	File    string
	URL     string
	Client  *http.Client
	MaxSize int64 // bytes; a larger document is refused
}

// Fetch returns the document's bytes.
func (s *Source) Fetch(ctx context.Context) ([]byte, error) {
	max := s.MaxSize
	if max <= 0 {
		max = 16 << 20
	}
	if s.File != "" {
		f, err := os.Open(s.File)
		if err != nil {
			return nil, err
		}
		defer f.Close() //nolint:errcheck // opened for reading
		return readCapped(f, max)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return nil, err
	}
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close() //nolint:errcheck // response body: only what was read matters
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jobs: %s answered %s", s.URL, resp.Status)
	}
	return readCapped(resp.Body, max)
}

func readCapped(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("jobs: document larger than %d bytes", max)
	}
	return b, nil
}

// Holder keeps the table in force and applies the guard on every reload.
type Holder struct {
	src        *Source
	maxRemoved float64
	rules      Rules
	table      atomic.Pointer[Table]
	// OnRefused is called with each refused reload (for logs and metrics).
	OnRefused func(err error)
	// OnLoaded is called with each accepted table and its document.
	OnLoaded func(t *Table, doc []byte)
}

// NewHolder returns a holder with no table yet. Every document it loads
// must keep to rules.
func NewHolder(src *Source, maxRemoved float64, rules Rules) *Holder {
	return &Holder{src: src, maxRemoved: maxRemoved, rules: rules}
}

// Parse parses a document under the holder's rules (no shrink check).
func (h *Holder) Parse(data []byte) (*Table, error) { return Parse(data, h.rules) }

// Table returns the table in force (nil before the first good load).
func (h *Holder) Table() *Table { return h.table.Load() }

// Reload fetches, parses and checks the document; on any failure the table
// in force stays and the error is returned (and reported to OnRefused).
func (h *Holder) Reload(ctx context.Context) error {
	err := h.reload(ctx)
	if err != nil && h.OnRefused != nil {
		h.OnRefused(err)
	}
	return err
}

func (h *Holder) reload(ctx context.Context) error {
	data, err := h.src.Fetch(ctx)
	if err != nil {
		return fmt.Errorf("jobs: fetching: %w", err)
	}
	next, err := Parse(data, h.rules)
	if err != nil {
		return err
	}
	if err := Accept(h.table.Load(), next, h.maxRemoved); err != nil {
		return err
	}
	h.table.Store(next)
	if h.OnLoaded != nil {
		h.OnLoaded(next, data)
	}
	return nil
}

// Install puts a table in force without the shrink check: the last good
// document kept on disk, installed at start before the first reload so
// that the reload is checked against it.
func (h *Holder) Install(t *Table) { h.table.Store(t) }

// Run reloads every interval until ctx ends.
func (h *Holder) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			_ = h.Reload(ctx)
		}
	}
}

// SaveLastGood keeps an accepted document at path, so that a restart while
// the source is down (or serving garbage) still has the jobs. It writes a
// temporary file and renames it: a crash leaves the old document or the
// new one, never half of one.
func SaveLastGood(path string, doc []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, doc, 0o640); err != nil { //nolint:gosec // G306: group-readable like the rest of the state directory
		return err
	}
	return os.Rename(tmp, path)
}

// InstallLastGood puts the document kept at path in force, without the
// shrink check, before the first reload (so that the reload is checked
// against it). A document the holder's rules now refuse is not installed.
// A missing file is an error that errors.Is(err, os.ErrNotExist).
func (h *Holder) InstallLastGood(path string) (*Table, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := h.Parse(doc)
	if err != nil {
		return nil, err
	}
	h.Install(t)
	return t, nil
}
