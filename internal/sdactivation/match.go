package sdactivation

import (
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Kind is what a receiver listens on.
type Kind uint8

const (
	// Unknown is any other descriptor (never handed to a receiver).
	Unknown Kind = iota
	// FIFO is a named pipe (ListenFIFO=).
	FIFO
	// Stream is a listening unix stream socket (ListenStream=).
	Stream
	// Datagram is a unix datagram socket (ListenDatagram=).
	Datagram
)

var kindNames = [...]string{Unknown: "other", FIFO: "fifo", Stream: "unix stream socket", Datagram: "unix datagram socket"}

// String names the kind for log lines.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "other"
}

// fileID is what tells one file from another: a path may be removed and
// made again, and then it is another file.
type fileID struct{ dev, ino uint64 }

func statID(path string) (fileID, bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileID{}, false
	}
	return fileID{dev: st.Dev, ino: st.Ino}, true
}

// kindOf says what fd is: a FIFO, a listening unix stream socket, a unix
// datagram socket, or something a receiver here cannot use.
func kindOf(fd int) Kind {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Unknown
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
		return FIFO
	case unix.S_IFSOCK:
	default:
		return Unknown
	}
	if d, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil || d != unix.AF_UNIX {
		return Unknown
	}
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return Unknown
	}
	switch typ {
	case unix.SOCK_STREAM:
		// Only a listening socket can be accepted on (Accept=no units).
		if l, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || l != 1 {
			return Unknown
		}
		return Stream
	case unix.SOCK_DGRAM:
		return Datagram
	}
	return Unknown
}

// isFIFOAt reports whether fd is the FIFO now at path: the same device and
// inode, as sd_is_fifo does. A FIFO removed and made again at the path is
// another pipe, one the writers opening the path would not reach.
func isFIFOAt(fd int, path string) bool {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return false
	}
	id, ok := statID(path)
	return ok && id == fileID{dev: st.Dev, ino: st.Ino}
}

// isUnixSocketAt reports whether fd is a unix socket of the kind bound to
// path, as sd_is_socket_unix does (by the address it is bound to: fstat
// of a socket does not tell the inode of its file).
func isUnixSocketAt(fd int, kind Kind, path string) bool {
	if kindOf(fd) != kind {
		return false
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	ua, ok := sa.(*unix.SockaddrUnix)
	return ok && samePath(ua.Name, path)
}

// samePath compares a bound address with a configured path, either of
// which may be relative to the working directory.
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}
