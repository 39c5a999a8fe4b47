package buffers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// storeIDFile holds the store's identity, in the store's directory.
const storeIDFile = "store-id"

// ID is the store's identity: random, made when its directory is first
// used and kept there. Offsets number a tenant's records within one store
// only; when a tenant moves to another store (its Kafka partition moved to
// another tenant-tier node), the same offsets name other records. Whatever
// is named by offsets outside the store (a destination's batch files) is
// named with the ID too.
func (s *Store) ID() string { return s.id }

// loadOrCreateID reads the store's identity, or makes one. An unreadable
// or damaged file gets a new identity: batches pushed again after that are
// written beside their first copy instead of over it (a duplicate, never a
// loss).
func loadOrCreateID(dir string) (string, error) {
	path := filepath.Join(dir, storeIDFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if id := strings.TrimSpace(string(b)); validID(id) {
			return id, nil
		}
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("buffers: %w", err)
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("buffers: store id: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	if err := writeSynced(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("buffers: store id: %w", err)
	}
	return id, nil
}

func validID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// writeSynced writes a small file whole and durably: temp file, fsync,
// rename, fsync of the directory.
func writeSynced(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640) //nolint:gosec // G302: group-readable like the rest of the buffer (the operators' group)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err = errorsJoin(err, f.Close()); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}
