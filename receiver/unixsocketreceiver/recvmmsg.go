package unixsocketreceiver

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Reading datagrams several at a time: one recvmmsg(2) takes up to
// datagramsPerRead queued datagrams, each into its own buffer with its own
// control message (its sender's SCM_CREDENTIALS and pidfd), so a busy
// /dev/log costs one syscall per batch instead of one per line, and the
// socket's queue (net.unix.max_dgram_qlen datagrams, 512 by default, on
// which writers block once it is full) empties as fast as it fills.
// golang.org/x/sys/unix has no wrapper for it, so the call and the
// kernel's struct mmsghdr are spelled out here.

// datagramsPerRead is the most datagrams one recvmmsg takes. Their
// buffers are allocated once, at max_message_size each; the pages of a
// buffer are only touched as far as a datagram fills it, so what is
// resident is what the largest datagrams need.
const datagramsPerRead = 64

// mmsghdr is the kernel's struct mmsghdr: a msghdr and the length the
// kernel received into it. Go pads it to the alignment of Msghdr as C
// does (64 bytes on 64-bit Linux, 32 on 32-bit).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// datagramBatch is the reused arrays one recvmmsg fills.
type datagramBatch struct {
	hdrs []mmsghdr
	iovs []unix.Iovec
	bufs [][]byte
	oobs [][]byte
}

// newDatagramBatch allocates n buffers of size bytes, with oobLen bytes
// of room for control messages each (0: none asked).
func newDatagramBatch(n, size, oobLen int) *datagramBatch {
	b := &datagramBatch{
		hdrs: make([]mmsghdr, n),
		iovs: make([]unix.Iovec, n),
		bufs: make([][]byte, n),
		oobs: make([][]byte, n),
	}
	for i := range n {
		b.bufs[i] = make([]byte, size)
		if oobLen > 0 {
			b.oobs[i] = make([]byte, oobLen)
		}
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(size)
	}
	b.reset()
	return b
}

// reset gives every message its whole buffers again: the kernel shrinks
// msg_controllen to what it wrote and sets msg_flags.
func (b *datagramBatch) reset() {
	for i := range b.hdrs {
		h := &b.hdrs[i].hdr
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		if len(b.oobs[i]) > 0 {
			h.Control = &b.oobs[i][0]
			h.SetControllen(len(b.oobs[i]))
		} else {
			h.Control = nil
			h.SetControllen(0)
		}
		h.Flags = 0
		b.hdrs[i].len = 0
	}
}

// message returns datagram i of the last read: its bytes, its control
// messages, and whether the kernel cut it to the buffer (MSG_TRUNC).
func (b *datagramBatch) message(i int) (msg, oob []byte, truncated bool) {
	h := &b.hdrs[i]
	msg = b.bufs[i][:h.len]
	if len(b.oobs[i]) > 0 {
		oob = b.oobs[i][:h.hdr.Controllen]
	}
	return msg, oob, h.hdr.Flags&unix.MSG_TRUNC != 0
}

// recvmmsg reads up to len(b.hdrs) queued datagrams without waiting and
// returns how many; EAGAIN when none is queued. Received descriptors
// (SCM_PIDFD, SCM_RIGHTS) are close-on-exec.
func (b *datagramBatch) recvmmsg(fd int) (int, error) {
	b.reset()
	for {
		// x/sys has no recvmmsg wrapper: the headers are ours, pinned by b.
		n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd),
			uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)), //nolint:gosec // G103: the mmsghdr array the kernel fills
			uintptr(unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC), 0, 0)
		switch errno {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, errno
	}
}

// readBatch waits, through the runtime's poller, until datagrams are
// queued (or the read deadline passes: os.ErrDeadlineExceeded) and reads
// a batch of them.
func (b *datagramBatch) readBatch(raw syscall.RawConn) (int, error) {
	var n int
	var rerr error
	err := raw.Read(func(fd uintptr) bool {
		n, rerr = b.recvmmsg(int(fd))
		return rerr != unix.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
}

// readNow reads a batch of what is queued without waiting, whatever the
// read deadline (RawConn.Control ignores it): for the drain at shutdown.
// n is 0 once nothing is queued.
func (b *datagramBatch) readNow(raw syscall.RawConn) (int, error) {
	var n int
	var rerr error
	if err := raw.Control(func(fd uintptr) { n, rerr = b.recvmmsg(int(fd)) }); err != nil {
		return 0, err
	}
	if rerr == unix.EAGAIN {
		return 0, nil
	}
	return n, rerr
}
