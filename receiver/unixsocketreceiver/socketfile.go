package unixsocketreceiver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/fileperm"
	"github.com/otelcol-logx/otelcol-logx/internal/sdactivation"
)

// liveProbeTimeout bounds the connect that tells a live socket from a
// stale one.
const liveProbeTimeout = time.Second

func (r *unixSocketReceiver) kind() sdactivation.Kind {
	if r.cfg.Transport == Datagram {
		return sdactivation.Datagram
	}
	return sdactivation.Stream
}

// openInherited takes the socket of the configured path that the service
// manager passed or a reload left open, if the registry holds one. It
// reports whether it did.
func (r *unixSocketReceiver) openInherited() (bool, error) {
	h := sdactivation.Acquire(r.kind(), r.cfg.Path)
	if h == nil {
		return false, nil
	}
	f, err := h.File()
	if err != nil {
		h.Release()
		return false, fmt.Errorf("unixsocket: %s: %w", r.cfg.Path, err)
	}
	defer f.Close() //nolint:errcheck // FileListener and FilePacketConn take their own copy
	if r.kind() == sdactivation.Datagram {
		pc, err := net.FilePacketConn(f)
		if err != nil {
			h.Release()
			return false, fmt.Errorf("unixsocket: %s: %w", r.cfg.Path, err)
		}
		r.packet = pc.(*net.UnixConn)
		_ = r.packet.SetReadBuffer(4 << 20) // as for a socket made here; best effort
	} else {
		l, err := net.FileListener(f)
		if err != nil {
			h.Release()
			return false, fmt.Errorf("unixsocket: %s: %w", r.cfg.Path, err)
		}
		r.listener = l.(*net.UnixListener)
		r.listener.SetUnlinkOnClose(false)
	}
	r.handle = h
	r.set.Logger.Info("unixsocket: listening on the socket "+h.Describe(), zap.String("path", r.cfg.Path))
	return true, nil
}

// createSocket binds a new socket at the path (replacing a stale one),
// applies mode and ownership, and registers it so that an in-process
// reload finds it open.
func (r *unixSocketReceiver) createSocket(mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(r.cfg.Path), 0o755); err != nil { //nolint:gosec // G301: clients of other users must reach the socket; its own mode guards it
		return fmt.Errorf("unixsocket: %w", err)
	}
	if err := checkSocketDir(filepath.Dir(r.cfg.Path)); err != nil {
		return err
	}
	if err := removeStaleSocket(r.cfg.Path); err != nil {
		return err
	}
	addr := &net.UnixAddr{Name: r.cfg.Path}
	var conn syscall.Conn
	if r.cfg.Transport == Datagram {
		addr.Net = "unixgram"
		pc, err := net.ListenUnixgram("unixgram", addr)
		if err != nil {
			return fmt.Errorf("unixsocket: %w", err)
		}
		_ = pc.SetReadBuffer(4 << 20) // absorb bursts; best effort
		r.packet, conn = pc, pc
	} else {
		addr.Net = "unix"
		l, err := net.ListenUnix("unix", addr)
		if err != nil {
			return fmt.Errorf("unixsocket: %w", err)
		}
		// The registry, not the listener, removes the file: only once no
		// reload took it back.
		l.SetUnlinkOnClose(false)
		r.listener, conn = l, l
	}
	stillOurs := sdactivation.SocketFileID(r.cfg.Path)
	remove := func() {
		if stillOurs() {
			_ = os.Remove(r.cfg.Path)
		}
	}
	afterBind(r.cfg.Path)
	if err := applySocketPermissions(r.cfg.Path, mode, r.cfg.Owner, r.cfg.Group); err != nil {
		r.closeSocket()
		remove()
		r.listener, r.packet = nil, nil
		return fmt.Errorf("unixsocket: %s: %w", r.cfg.Path, err)
	}
	h, err := sdactivation.Keep(r.kind(), r.cfg.Path, conn, remove)
	if err != nil {
		r.set.Logger.Warn("unixsocket: the socket will not be kept open across a reload: "+err.Error(), zap.String("path", r.cfg.Path))
		r.removeOnClose = remove
	} else {
		r.handle = h
	}
	r.set.Logger.Info("unixsocket: created the socket", zap.String("path", r.cfg.Path))
	return nil
}

// afterBind runs between binding the socket and applying its permissions;
// tests put a file in its place there.
var afterBind = func(string) {}

// applySocketPermissions sets the socket file's mode and ownership through
// a descriptor of the file itself (O_PATH, O_NOFOLLOW), never by path: a
// symbolic link put at the path is refused, not followed, and nothing but
// a socket is changed. (fchmod on the socket's own descriptor would change
// the socket, not its file.) The result is checked again by name, without
// following links.
func applySocketPermissions(path string, mode os.FileMode, owner, group string) error {
	fd, err := fileperm.OpenNoFollow(path, unix.S_IFSOCK)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := fileperm.ApplyOwnershipFd(fd, mode, owner, group); err != nil {
		return err
	}
	var byFD, byName unix.Stat_t
	if err := unix.Fstat(fd, &byFD); err != nil {
		return err
	}
	if err := unix.Fstatat(unix.AT_FDCWD, path, &byName, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if byName.Dev != byFD.Dev || byName.Ino != byFD.Ino {
		return errors.New("the socket file was replaced while its permissions were set; refused: make its directory writable only by the collector")
	}
	return nil
}

// checkSocketDir refuses a directory others may write to without the
// sticky bit: they could replace the socket file between its creation and
// its permissions, or afterwards, and have writers connect to theirs.
func checkSocketDir(dir string) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("unixsocket: %w", err)
	}
	if st.Mode&unix.S_ISVTX != 0 {
		return nil // others may not rename or remove our file
	}
	othersWrite := st.Mode&0o002 != 0 ||
		st.Mode&0o020 != 0 && st.Gid != uint32(os.Getegid()) && st.Gid != 0 || //nolint:gosec // G115: uid/gid are 32-bit on Linux
		st.Uid != uint32(os.Geteuid()) && st.Uid != 0 && st.Mode&0o200 != 0 //nolint:gosec // G115: uid/gid are 32-bit on Linux
	if othersWrite {
		return fmt.Errorf("unixsocket: the directory %s may be written by other users (owner uid %d, group gid %d, mode %04o), who could replace the socket; choose a directory only the collector or root may write (e.g. /run/logx), or set its sticky bit", dir, st.Uid, st.Gid, st.Mode&0o7777)
	}
	return nil
}

// removeStaleSocket removes a socket file nobody listens on (left by a
// previous run), refuses one somebody does (another daemon, or a second
// receiver of the same path), and refuses to touch anything that is not a
// socket.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unixsocket: %w", err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("unixsocket: %s is a symbolic link: refused, it is never followed; configure the real path, or remove the link", path)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("unixsocket: %s exists and is not a socket; remove it or choose another path", path)
	}
	if err := probeSocket(path); err != nil {
		return err
	}
	return os.Remove(path)
}

// probeSocket connects to a socket file: refused means nobody listens
// (stale); a connection means it is in use.
func probeSocket(path string) error {
	for _, network := range []string{"unix", "unixgram"} {
		c, err := net.DialTimeout(network, path, liveProbeTimeout)
		if err == nil {
			_ = c.Close()
			return fmt.Errorf("unixsocket: %s is in use: a process listens on it (another syslog daemon, or a second receiver with this path); stop it or choose another path", path)
		}
		switch {
		case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPROTOTYPE):
			continue // nobody on it, or of the other type: try that
		case errors.Is(err, os.ErrPermission):
			return fmt.Errorf("unixsocket: %s exists and the collector may not connect to it to see whether it is in use (%v); remove it if it is stale, or choose another path", path, err)
		}
	}
	return nil
}
