package unixsocketreceiver

import (
	"errors"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

// datagramFlushDelay bounds how long a datagram waits in a batch when no
// more arrive.
const datagramFlushDelay = 5 * time.Millisecond

// datagramDrainTimeout bounds reading, at shutdown, the datagrams already
// queued on the socket.
const datagramDrainTimeout = 100 * time.Millisecond

// stopDatagrams makes readDatagrams read what is queued and return.
func (r *unixSocketReceiver) stopDatagrams() {
	r.stopping.Store(true)
	_ = r.packet.SetReadDeadline(time.Now())
}

// readDatagrams reads one message per datagram. Credentials are not
// attached here (they would need SCM_CREDENTIALS on every datagram).
func (r *unixSocketReceiver) readDatagrams() {
	defer r.wg.Done()
	identity := ingest.NewServiceIdentity("", r.cfg.DefaultService)
	lines := ingest.NewLines(ingest.LinesSettings{
		Stage:           r.stage,
		Parser:          syslog.Parser{Format: r.cfg.Format},
		Scope:           metadata.ScopeName,
		Decorate:        identity.Set,
		ExtraAttributes: 1,
		OnParseError:    r.tel.Malformed,
	})
	// One byte more than the maximum tells a longer datagram (which the
	// kernel truncates to the buffer) from one of exactly the maximum.
	buf := make([]byte, r.cfg.MaxMessageSize+1)
	deadlineSet := false
	for {
		n, err := r.packet.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				lines.Flush()
				if r.stopping.Load() {
					r.drainDatagrams(lines, buf)
					return
				}
				_ = r.packet.SetReadDeadline(time.Time{})
				deadlineSet = false
				if r.stopping.Load() { // stopped while the deadline was cleared
					r.drainDatagrams(lines, buf)
					return
				}
				continue
			}
			lines.Flush()
			if !errors.Is(err, net.ErrClosed) {
				r.set.Logger.Error("unixsocket: datagram socket failed, no longer reading: " + err.Error())
			}
			return
		}
		r.addDatagram(lines, buf[:n])
		if !deadlineSet {
			_ = r.packet.SetReadDeadline(time.Now().Add(datagramFlushDelay))
			deadlineSet = true
		}
	}
}

// addDatagram adds one datagram as a message: cut to the maximum (and
// counted), without its trailing newlines and NULs.
func (r *unixSocketReceiver) addDatagram(lines *ingest.Lines, msg []byte) {
	if len(msg) > r.cfg.MaxMessageSize {
		msg = msg[:r.cfg.MaxMessageSize]
		r.tel.Truncated()
	}
	for len(msg) > 0 && (msg[len(msg)-1] == '\n' || msg[len(msg)-1] == 0) {
		msg = msg[:len(msg)-1]
	}
	lines.Add(msg)
}

// drainDatagrams reads, without waiting, the datagrams queued on the
// socket at shutdown, for at most datagramDrainTimeout: without a service
// manager holding the socket they would die with the process uncounted.
// RawConn.Control, unlike Read, ignores the expired deadline.
func (r *unixSocketReceiver) drainDatagrams(lines *ingest.Lines, buf []byte) {
	defer lines.Flush()
	raw, err := r.packet.SyscallConn()
	if err != nil {
		return
	}
	end := time.Now().Add(datagramDrainTimeout)
	for time.Now().Before(end) {
		n, rerr := 0, error(nil)
		if err := raw.Control(func(fd uintptr) {
			n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
		}); err != nil || rerr != nil {
			return // EAGAIN: nothing more queued
		}
		r.addDatagram(lines, buf[:n])
	}
}
