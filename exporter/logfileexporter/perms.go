package logfileexporter

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// perms are the resolved permissions.Config: applied explicitly after
// every create, so that the process umask never decides them.
type perms struct {
	fileMode os.FileMode
	dirMode  os.FileMode
	uid, gid int // -1: leave as created
}

// openFlags: append-only, so that a tool truncating the file (logrotate's
// copytruncate) does not leave a hole; close-on-exec is Go's default.
const openFlags = os.O_WRONLY | os.O_APPEND | os.O_CREATE

// openFile opens path for appending, creating it and missing parent
// directories with the configured modes and owner. An existing file gets
// its mode and owner corrected too: the configuration is the truth.
func (p *perms) openFile(path string) (*os.File, error) {
	if err := p.mkdirAll(filepath.Dir(path)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, openFlags, p.fileMode)
	if err != nil {
		return nil, err
	}
	if err := p.apply(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// createFile creates a new file (for compressed copies) with the
// configured permissions; it fails if the file exists.
func (p *perms) createFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, p.fileMode)
	if err != nil {
		return nil, err
	}
	if err := p.apply(f); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, err
	}
	return f, nil
}

func (p *perms) apply(f *os.File) error {
	if err := f.Chmod(p.fileMode); err != nil {
		return err
	}
	if p.uid >= 0 || p.gid >= 0 {
		if err := f.Chown(p.uid, p.gid); err != nil {
			return err
		}
	}
	return nil
}

// mkdirAll creates dir and its missing parents, each with dirMode and the
// configured owner; directories that exist are left alone (they may be
// shared, like /var/log).
func (p *perms) mkdirAll(dir string) error {
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := p.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, p.dirMode); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created concurrently
		}
		return err
	}
	if err := os.Chmod(dir, p.dirMode); err != nil {
		return err
	}
	if p.uid >= 0 || p.gid >= 0 {
		return os.Lchown(dir, p.uid, p.gid)
	}
	return nil
}
