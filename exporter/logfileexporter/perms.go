package logfileexporter

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// errSymlink marks a symbolic link found where a log file, or a directory
// the exporter manages, should be. It is never followed: a link planted
// in a writable log directory would otherwise make the collector append
// to, chmod or chown any file it can reach.
var errSymlink = errors.New("is a symbolic link; refusing to follow it (remove it, or choose another path)")

// perms are the resolved permissions.Config: applied explicitly after
// every create, on the descriptor, so that the process umask never
// decides them and a path swapped underneath is never changed instead.
type perms struct {
	fileMode os.FileMode
	dirMode  os.FileMode
	uid, gid int // -1: leave as created
}

// openFlags: append-only, so that a tool truncating the file (logrotate's
// copytruncate) does not leave a hole; no symlinks; non-blocking so that
// a FIFO planted at the path fails instead of hanging the open (the flag
// is cleared again once the file is known to be a regular file).
const openFlags = unix.O_WRONLY | unix.O_APPEND | unix.O_CREAT | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC

const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

// openFile opens path for appending. root is a directory the operator
// configured (the path template's fixed part): it and its parents may be
// symbolic links and are created when missing. Every name below root
// (directories rendered from attributes, and the file) is opened relative
// to its parent's descriptor without following symbolic links, created
// when missing, and given the configured mode and owner through the
// descriptor. An existing file's mode and owner are corrected too: the
// configuration is the truth.
func (p *perms) openFile(root, path string) (*os.File, error) {
	rel, err := below(root, filepath.Clean(path))
	if err != nil {
		return nil, err
	}
	if err := p.mkdirAll(root); err != nil {
		return nil, err
	}
	dirfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	names := strings.Split(rel, "/")
	at := root
	for _, name := range names[:len(names)-1] {
		at = filepath.Join(at, name)
		next, err := p.openDirAt(dirfd, name, at)
		_ = unix.Close(dirfd)
		if err != nil {
			return nil, err
		}
		dirfd = next
	}
	defer unix.Close(dirfd)
	name := names[len(names)-1]
	fd, err := unix.Openat(dirfd, name, openFlags, uint32(p.fileMode))
	if err != nil {
		return nil, openError(dirfd, name, path, err)
	}
	f, err := regularFile(fd, path)
	if err != nil {
		return nil, err
	}
	if err := p.apply(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// below returns path relative to root, refusing one that leaves it.
func below(root, path string) (string, error) {
	rel := path
	if root != "." {
		prefix := root
		if !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		var ok bool
		if rel, ok = strings.CutPrefix(path, prefix); !ok {
			return "", fmt.Errorf("%s: not below %s", path, root)
		}
	}
	var names []string
	for _, n := range strings.Split(rel, "/") {
		switch n {
		case "", ".":
		case "..":
			return "", fmt.Errorf("%s: \"..\" would leave %s; write the path without it", path, root)
		default:
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("%s: no file name below %s", path, root)
	}
	return strings.Join(names, "/"), nil
}

// openDirAt opens (creating when missing) the directory name in dirfd
// without following a symbolic link; path is for errors.
func (p *perms) openDirAt(dirfd int, name, path string) (int, error) {
	fd, err := unix.Openat(dirfd, name, dirFlags, 0)
	if err == nil {
		return fd, nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return -1, openError(dirfd, name, path, err)
	}
	if err := unix.Mkdirat(dirfd, name, uint32(p.dirMode)); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, &fs.PathError{Op: "mkdir", Path: path, Err: err}
	}
	if fd, err = unix.Openat(dirfd, name, dirFlags, 0); err != nil {
		return -1, openError(dirfd, name, path, err)
	}
	if err := p.applyDir(fd, path); err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// openError turns a refused open into errSymlink when name is a link.
func openError(dirfd int, name, path string, err error) error {
	var st unix.Stat_t
	if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return fmt.Errorf("%s %w", path, errSymlink)
	}
	return &fs.PathError{Op: "open", Path: path, Err: err}
}

// regularFile wraps fd, refusing anything but a regular file (a FIFO or
// device planted at a log path), and makes it blocking again.
func regularFile(fd int, path string) (*os.File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		_ = unix.Close(fd)
		return nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("%s is not a regular file; remove it or choose another path", path)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		_ = unix.Close(fd)
		return nil, &fs.PathError{Op: "fcntl", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// createFile creates a new file (for compressed copies) with the
// configured permissions; it fails if the file, or a link, exists.
func (p *perms) createFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, p.fileMode)
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

// openRotated opens a rotated file for reading (to compress it), refusing
// a link or anything but a regular file: a link swapped in would
// otherwise copy a file the collector can read into one others can.
func openRotated(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("%s %w", path, errSymlink)
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return regularFile(fd, path)
}

// apply sets the file's mode and owner through its descriptor.
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

// applyDir sets a directory's mode and owner through its descriptor.
func (p *perms) applyDir(fd int, path string) error {
	if err := unix.Fchmod(fd, uint32(p.dirMode)); err != nil {
		return &fs.PathError{Op: "chmod", Path: path, Err: err}
	}
	if p.uid >= 0 || p.gid >= 0 {
		if err := unix.Fchown(fd, p.uid, p.gid); err != nil {
			return &fs.PathError{Op: "chown", Path: path, Err: err}
		}
	}
	return nil
}

// mkdirAll creates dir and its missing parents, each with dirMode and the
// configured owner (set through the new directory's descriptor, opened
// without following links, so a link swapped in is refused, not
// changed). Directories that exist are left alone: they may be shared,
// like /var/log, or a link the operator made.
func (p *perms) mkdirAll(dir string) error {
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: unix.ENOTDIR}
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
	fd, err := unix.Open(dir, dirFlags, 0)
	if err != nil {
		return openError(unix.AT_FDCWD, dir, dir, err)
	}
	defer unix.Close(fd)
	return p.applyDir(fd, dir)
}
