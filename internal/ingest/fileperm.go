package ingest

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
)

// FileMode parses an octal permission string such as "0660".
func FileMode(s string) (os.FileMode, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("mode %q is not an octal permission: write e.g. \"0660\"", s)
	}
	return os.FileMode(m), nil
}

// ApplyOwnership sets a socket's or FIFO's mode, and its owner and group
// when given (names or numeric ids; empty keeps the current one).
func ApplyOwnership(path string, mode os.FileMode, owner, group string) error {
	if err := os.Chmod(path, mode); err != nil {
		return err
	}
	if owner == "" && group == "" {
		return nil
	}
	uid, gid := -1, -1
	if owner != "" {
		id, err := lookupID(owner, func(n string) (string, error) {
			u, err := user.Lookup(n)
			if err != nil {
				return "", err
			}
			return u.Uid, nil
		})
		if err != nil {
			return fmt.Errorf("owner %q: %w", owner, err)
		}
		uid = id
	}
	if group != "" {
		id, err := lookupID(group, func(n string) (string, error) {
			g, err := user.LookupGroup(n)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		})
		if err != nil {
			return fmt.Errorf("group %q: %w", group, err)
		}
		gid = id
	}
	return os.Chown(path, uid, gid)
}

func lookupID(name string, lookup func(string) (string, error)) (int, error) {
	if id, err := strconv.Atoi(name); err == nil {
		return id, nil
	}
	s, err := lookup(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}
