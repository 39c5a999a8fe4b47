package journalreceiver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// cursorKey is the key of the cursor in a storage extension.
const cursorKey = "journal_cursor"

// cursorStore keeps the cursor of the last entry the pipeline accepted.
type cursorStore interface {
	// Load returns the stored cursor, "" if none.
	Load(ctx context.Context) (string, error)
	Save(ctx context.Context, cursor string) error
	Close(ctx context.Context) error
}

// openCursorStore opens the configured place for the cursor: the storage
// extension if one is named, else a file in cursor_directory.
func openCursorStore(ctx context.Context, host component.Host, cfg *Config, id component.ID) (cursorStore, error) {
	if cfg.Storage == nil {
		if err := os.MkdirAll(cfg.CursorDirectory, 0o750); err != nil {
			return nil, fmt.Errorf("creating cursor_directory: %w", err)
		}
		return &fileCursor{path: filepath.Join(cfg.CursorDirectory, cursorFileName(id))}, nil
	}
	ext, ok := host.GetExtensions()[*cfg.Storage]
	if !ok {
		return nil, fmt.Errorf("storage %q: no such extension; add it under extensions and service.extensions", cfg.Storage)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("storage %q is not a storage extension (use e.g. file_storage)", cfg.Storage)
	}
	client, err := se.GetClient(ctx, component.KindReceiver, id, "")
	if err != nil {
		return nil, fmt.Errorf("storage %q: %w", cfg.Storage, err)
	}
	return &storageCursor{client: client}, nil
}

// cursorFileName derives a file name from the receiver's ID ("journal/app"
// -> "journal_app.cursor"), so that several journal receivers can share a
// directory.
func cursorFileName(id component.ID) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == os.PathSeparator || r == 0 {
			return '_'
		}
		return r
	}, id.String()) + ".cursor"
}

type storageCursor struct{ client storage.Client }

func (s *storageCursor) Load(ctx context.Context) (string, error) {
	b, err := s.client.Get(ctx, cursorKey)
	return string(b), err
}

func (s *storageCursor) Save(ctx context.Context, cursor string) error {
	return s.client.Set(ctx, cursorKey, []byte(cursor))
}

func (s *storageCursor) Close(ctx context.Context) error { return s.client.Close(ctx) }

type fileCursor struct{ path string }

func (f *fileCursor) Load(context.Context) (string, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(b)), err
}

// Save replaces the file atomically (write, sync, rename), so a crash leaves
// either the old cursor or the new one, never half of one.
func (f *fileCursor) Save(_ context.Context, cursor string) error {
	tmp, err := os.CreateTemp(filepath.Dir(f.path), filepath.Base(f.path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(cursor + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), f.path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

func (f *fileCursor) Close(context.Context) error { return nil }
