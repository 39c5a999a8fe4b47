package cfjs1receiver

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketBytesWaiting returns a function that asks the kernel how many bytes
// conn's receive queue holds (SIOCINQ): one ioctl, no read. -1 when it
// cannot be asked.
func socketBytesWaiting(conn net.Conn) func() int {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return func() int { return -1 }
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return func() int { return -1 }
	}
	return func() int {
		n := -1
		_ = raw.Control(func(fd uintptr) {
			if v, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err == nil {
				n = v
			}
		})
		return n
	}
}
