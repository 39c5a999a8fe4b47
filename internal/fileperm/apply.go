package fileperm

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"
)

// OpenNoFollow opens path itself, never what a symbolic link there points
// to, as an O_PATH descriptor (opening it has no effect on the file, even a
// device), and checks that it is of the wanted type (unix.S_IFSOCK,
// unix.S_IFIFO). A symbolic link is refused with an error saying so. The
// caller closes the descriptor.
//
// Permissions applied through the descriptor then reach exactly the file
// that was checked: a file swapped in at the path meanwhile is not touched.
func OpenNoFollow(path string, wantType uint32) (int, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		_ = unix.Close(fd)
		return -1, &os.PathError{Op: "fstat", Path: path, Err: err}
	}
	if got := st.Mode & unix.S_IFMT; got != wantType {
		_ = unix.Close(fd)
		if got == unix.S_IFLNK {
			return -1, fmt.Errorf("%s is a symbolic link: refused, it is never followed; configure the real path, or remove the link", path)
		}
		return -1, fmt.Errorf("%s is not a %s; remove it or choose another path", path, typeName(wantType))
	}
	return fd, nil
}

func typeName(t uint32) string {
	switch t {
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFIFO:
		return "FIFO"
	}
	return "file of the expected type"
}

// ApplyOwnershipFd sets the mode of the file fd refers to, and its owner
// and group when given (names or numeric ids; empty keeps the current
// one). fd may be an O_PATH descriptor from OpenNoFollow: nothing here
// resolves a path, so a symbolic link or a file swapped in at the path is
// never changed.
func ApplyOwnershipFd(fd int, mode os.FileMode, owner, group string) error {
	uid, gid, err := lookupOwner(owner, group)
	if err != nil {
		return err
	}
	// Ownership first: chown clears set-id bits, and a mode applied before
	// a chown to the wanted group would briefly grant the old group.
	if uid >= 0 || gid >= 0 {
		if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	return fchmodFd(fd, uint32(mode.Perm()))
}

// fchmodFd changes the mode through the descriptor: fchmodat2 with
// AT_EMPTY_PATH (Linux 6.6+) works on O_PATH descriptors; else the
// descriptor's /proc/self/fd link, which names the very file opened, not
// a path looked up again.
func fchmodFd(fd int, mode uint32) error {
	err := unix.Fchmodat(fd, "", mode, unix.AT_EMPTY_PATH)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("chmod: %w", err)
	}
	if err := unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), mode); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return nil
}

// lookupOwner turns owner and group names or ids into ids; -1 for empty.
func lookupOwner(owner, group string) (uid, gid int, err error) {
	if uid, err = UserID(owner); err != nil {
		return 0, 0, err
	}
	if gid, err = GroupID(group); err != nil {
		return 0, 0, err
	}
	return uid, gid, nil
}

// UserID returns the uid of an owner given by name or number; -1 for ""
// (leave the owner as it is).
func UserID(owner string) (int, error) {
	id, err := lookupID(owner, func(n string) (string, error) {
		u, err := user.Lookup(n)
		if err != nil {
			return "", err
		}
		return u.Uid, nil
	})
	if err != nil {
		return 0, fmt.Errorf("owner %q: %w", owner, err)
	}
	return id, nil
}

// GroupID returns the gid of a group given by name or number; -1 for ""
// (leave the group as it is).
func GroupID(group string) (int, error) {
	id, err := lookupID(group, func(n string) (string, error) {
		g, err := user.LookupGroup(n)
		if err != nil {
			return "", err
		}
		return g.Gid, nil
	})
	if err != nil {
		return 0, fmt.Errorf("group %q: %w", group, err)
	}
	return id, nil
}

// lookupID: a non-negative number is the id itself, anything else a name.
func lookupID(name string, lookup func(string) (string, error)) (int, error) {
	if name == "" {
		return -1, nil
	}
	if id, err := strconv.Atoi(name); err == nil && id >= 0 {
		return id, nil
	}
	s, err := lookup(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}
