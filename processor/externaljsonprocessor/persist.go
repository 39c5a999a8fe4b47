package externaljsonprocessor

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// persistedState is the on-disk form of a source's last good response. The
// raw body is kept (not the fields), so that it goes through the same checks
// and the current mapping when it is loaded.
type persistedState struct {
	FetchedAt time.Time `json:"fetched_at"`
	ETag      string    `json:"etag,omitempty"`
	Body      []byte    `json:"body"`
}

// persistFile is where source name's state is kept in dir.
func persistFile(dir, name string) string { return filepath.Join(dir, name+".json") }

// savePersisted writes atomically: a temporary file in the same directory,
// synced, then renamed over the old one, so a crash leaves either the old or
// the new state, never a torn file.
func savePersisted(dir, name string, st persistedState) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close() // the write failed already: that error is returned
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close() // the write failed already: that error is returned
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), persistFile(dir, name))
}

// loadPersisted reads a source's state; (zero, false, nil) when there is none.
func loadPersisted(dir, name string, maxSize int64) (persistedState, bool, error) {
	path := persistFile(dir, name)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return persistedState{}, false, nil
	}
	if err != nil {
		return persistedState{}, false, err
	}
	// base64 body plus a little framing: anything much larger is not ours.
	if limit := maxSize*2 + 4096; fi.Size() > limit {
		return persistedState{}, false, fmt.Errorf("%s is %d bytes, more than a state of max_size %d can be", path, fi.Size(), maxSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return persistedState{}, false, err
	}
	var st persistedState
	if err := json.Unmarshal(data, &st); err != nil {
		return persistedState{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return st, true, nil
}
