package buffers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A tenant's buffer is a directory under Dir/t named "h-" and 32 hex digits
// of the SHA-256 of the tenant's name (its first 16 bytes): 34 bytes, the
// same whatever the name, so that no tenant name of any length or bytes
// makes a directory name the file system refuses. The name itself is kept
// in the directory's file "tenant", written before anything else, and read
// back and compared when the directory is reused: two names whose hashes
// agree never share a buffer (the second is refused and counted as
// tenant_dir). At start-up the name file gives each directory its tenant.
//
// Stores written before this scheme named directories after the tenant:
// "n-<name>" for a name of safe characters up to 100 bytes, "x-<hex of the
// name>" for any other. Those are read as they are and keep their name for
// as long as the buffer exists (read both forms, migrate none): nothing is
// renamed at start-up, so a store that is rolled back to the previous
// version still finds every tenant it had. A buffer that is removed and
// comes back later gets the new form.
const (
	hashPrefix   = "h-"
	hashBytes    = 16
	nameFile     = "tenant"
	maxNameBytes = 1 << 20 // a name file larger than this is not one of ours
)

// DirName is the name of the directory a new buffer of tenant gets under
// Dir/t (recovered buffers of the older form keep theirs).
func DirName(tenant string) string {
	sum := sha256.Sum256([]byte(tenant))
	return hashPrefix + hex.EncodeToString(sum[:hashBytes])
}

// errDirTaken: the tenant's directory exists and names another tenant (or
// none): it is not reused.
var errDirTaken = errors.New("the directory exists and belongs to another tenant")

// dirError is a failure to make a tenant's directory: its records are
// refused as tenant_dir, the other tenants' go on.
type dirError struct {
	tenant string
	err    error
}

func (e *dirError) Error() string {
	return fmt.Sprintf("buffers: making the directory of tenant %q: %v", e.tenant, e.err)
}

func (e *dirError) Unwrap() error { return e.err }

// makeTenantDir creates dir (a DirName under root) for tenant and writes
// its name file. A directory already there is reused only when its name
// file names this tenant; it is then a leftover of a buffer whose removal
// failed part way, and whatever it still holds is removed first, since a
// new buffer starts from an empty stream.
func makeTenantDir(dir, tenant string) error {
	err := os.Mkdir(dir, 0o750)
	if errors.Is(err, fs.ErrExist) {
		if got, ok := readNameFile(dir); !ok || got != tenant {
			return errDirTaken
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		err = os.Mkdir(dir, 0o750)
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, nameFile), []byte(tenant), 0o640); err != nil { //nolint:gosec // G306: group-readable like the rest of the buffer (the operators' group)
		_ = os.RemoveAll(dir)
		return err
	}
	return nil
}

// readNameFile returns the tenant a hashed directory holds, checked
// against the directory's name (a torn or foreign name file fails).
func readNameFile(dir string) (string, bool) {
	f, err := os.Open(filepath.Join(dir, nameFile))
	if err != nil {
		return "", false
	}
	defer f.Close() //nolint:errcheck // opened for reading
	b, err := io.ReadAll(io.LimitReader(f, maxNameBytes+1))
	if err != nil || len(b) > maxNameBytes {
		return "", false
	}
	name := string(b)
	return name, DirName(name) == filepath.Base(dir)
}

// syncNameFile makes a new directory's name file durable.
func syncNameFile(dir string) error {
	f, err := os.Open(filepath.Join(dir, nameFile))
	if err != nil {
		return err
	}
	err = f.Sync()
	return errorsJoin(err, f.Close())
}

// isHashedDir reports whether d has the form DirName gives.
func isHashedDir(d string) bool {
	h, ok := strings.CutPrefix(d, hashPrefix)
	if !ok || len(h) != 2*hashBytes {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// legacyTenantFromDir decodes a directory name of the older form.
func legacyTenantFromDir(d string) (string, bool) {
	if s, ok := strings.CutPrefix(d, "n-"); ok && s != "" && plainName(s) {
		return s, true
	}
	if s, ok := strings.CutPrefix(d, "x-"); ok {
		b, err := hex.DecodeString(s)
		return string(b), err == nil
	}
	return "", false
}

// plainName: the characters the older form kept readable.
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return s[0] != '.'
}
