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

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
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
	defer f.Close() // FileListener and FilePacketConn take their own copy
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
	if err := removeStaleSocket(r.cfg.Path); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(r.cfg.Path), 0o755); err != nil {
		return fmt.Errorf("unixsocket: %w", err)
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
	if err := ingest.ApplyOwnership(r.cfg.Path, mode, r.cfg.Owner, r.cfg.Group); err != nil {
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
