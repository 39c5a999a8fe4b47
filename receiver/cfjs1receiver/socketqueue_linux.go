package cfjs1receiver

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketQueue asks the kernel about conn's receive queue, and sets its
// low-water mark. Either does nothing (waiting says -1) when the socket
// cannot be reached.
type socketQueue struct {
	raw syscall.RawConn
}

func newSocketQueue(conn net.Conn) socketQueue {
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			return socketQueue{raw: raw}
		}
	}
	return socketQueue{}
}

// waiting is how many bytes the receive queue holds (SIOCINQ): one ioctl,
// no read; -1 when unknown.
func (q socketQueue) waiting() int {
	n := -1
	if q.raw != nil {
		_ = q.raw.Control(func(fd uintptr) {
			if v, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err == nil {
				n = v
			}
		})
	}
	return n
}

// setLowWater sets SO_RCVLOWAT: the kernel wakes a reader (and the
// poller) only once n bytes are queued. A read that does not wait still
// gets whatever is queued.
func (q socketQueue) setLowWater(n int) {
	if q.raw != nil {
		_ = q.raw.Control(func(fd uintptr) {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, n)
		})
	}
}
