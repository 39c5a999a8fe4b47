package unixsocketreceiver

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

// datagramDrainTimeout bounds reading, at shutdown, the datagrams already
// queued on the socket.
const datagramDrainTimeout = 100 * time.Millisecond

// stopDatagrams makes readDatagrams read what is queued and return.
func (r *unixSocketReceiver) stopDatagrams() {
	r.stopping.Store(true)
	_ = r.packet.SetReadDeadline(time.Now())
}

// maxDatagramSources bounds the writers whose datagrams are batched apart
// at once; past it every batch is handed over and batching starts again.
const maxDatagramSources = 64

// datagramSources batches datagrams per writer: each batch's records get
// their own writer's attributes.
type datagramSources struct {
	r       *unixSocketReceiver
	units   *unitCache
	byPeer  map[peer]*ingest.Lines
	unknown *ingest.Lines // datagrams without credentials
}

func (r *unixSocketReceiver) newDatagramSources() *datagramSources {
	return &datagramSources{r: r, units: newUnitCache(), byPeer: map[peer]*ingest.Lines{}}
}

// linesOf returns the batch of a writer's datagrams.
func (s *datagramSources) linesOf(p peer, known bool) *ingest.Lines {
	if !known {
		if s.unknown == nil {
			s.unknown = s.r.newLines(s.r.newPeerInfo(peer{}))
		}
		return s.unknown
	}
	if l, ok := s.byPeer[p]; ok {
		return l
	}
	if len(s.byPeer) >= maxDatagramSources {
		s.flush()
		clear(s.byPeer)
	}
	l := s.r.newLines(s.r.newPeerInfo(p))
	s.byPeer[p] = l
	return l
}

func (s *datagramSources) flush() {
	for _, l := range s.byPeer {
		l.Flush()
	}
	if s.unknown != nil {
		s.unknown.Flush()
	}
}

// newLines returns a batch whose records get pi's attributes.
func (r *unixSocketReceiver) newLines(pi *peerInfo) *ingest.Lines {
	return ingest.NewLines(ingest.LinesSettings{
		Stage:           r.stage,
		Parser:          syslog.Parser{Format: r.cfg.Format},
		Scope:           metadata.ScopeName,
		Decorate:        pi.decorate,
		ExtraAttributes: peerAttributes,
		OnParseError:    r.tel.Malformed,
		ServiceKey:      pi.serviceKey(),
	})
}

// passCredentials makes the kernel attach the sender's credentials to
// every datagram (SO_PASSCRED): SCM_CREDENTIALS, which a sender cannot
// forge without privilege; and, where the kernel has it (Linux 6.5+), a
// pidfd of the sender (SO_PASSPIDFD), best effort.
func passCredentials(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
		if serr == nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSPIDFD, 1)
		}
	}); err != nil {
		return err
	}
	return serr
}

// askCredentials asks the kernel for the credentials of the datagrams
// sent from now on, when peer.credentials is on, and reports whether it
// will give them. Datagrams queued before (e.g. while the collector
// restarted) have none.
func (r *unixSocketReceiver) askCredentials() bool {
	if !r.cfg.Peer.Credentials {
		return false
	}
	if err := passCredentials(r.packet); err != nil {
		r.set.Logger.Warn("unixsocket: SO_PASSCRED failed, datagrams get no credentials: " + err.Error())
		return false
	}
	return true
}

// oobSize holds the SCM_CREDENTIALS and SCM_PIDFD messages, and room for
// descriptors a sender may pass besides (they are closed; those past the
// room are closed by the kernel).
var oobSize = unix.CmsgSpace(unix.SizeofUcred) + unix.CmsgSpace(4) + unix.CmsgSpace(4*16)

// readDatagrams is the socket's own goroutine: it does nothing but move
// queued datagrams into the buffer, a batch per recvmmsg (recvmmsg.go),
// each with its sender's credentials when peer.credentials is on, and
// hands each read's lines over at once; the Stage, which never makes it
// wait, lets them linger for company before a request goes out. So a
// writer blocks only while the reader is not scheduled at all, never on
// the pipeline. Its only timer is its pace (ingest.Pacer): after a read
// that took few datagrams of a steady writer it waits at most a few
// milliseconds, for a few dozen datagrams to queue, never for a quiet
// socket.
func (r *unixSocketReceiver) readDatagrams(withCred bool) {
	defer r.wg.Done()
	sources := r.newDatagramSources()
	oobLen := 0
	if withCred {
		oobLen = oobSize
	}
	batch := newDatagramBatch(datagramsPerRead, r.cfg.MaxMessageSize, oobLen)
	raw, err := r.packet.SyscallConn()
	if err != nil {
		r.set.Logger.Error("unixsocket: datagram socket unusable, not reading: " + err.Error())
		return
	}
	// At a steady rate of a datagram per line, each recvmmsg would take a
	// datagram or two: the pause lets a few milliseconds' worth queue,
	// far fewer than the queue holds (ingest/pace.go), and a read that
	// takes a full batch is followed by the next at once. A pause aims at
	// half a batch: one call takes what gathered, and a sender's socket
	// buffer (some 280 short datagrams in flight) stays mostly free.
	pace := ingest.DefaultPace
	pace.Writes = datagramsPerRead / 2
	pacer := ingest.NewPacer(pace, r.stop)
	for {
		pacer.Wait()
		n, err := batch.readBatch(raw)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && r.stopping.Load() {
				r.drainDatagrams(sources, batch, raw, withCred)
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // a deadline only Shutdown sets; it stores stopping first
			}
			sources.flush()
			if !errors.Is(err, net.ErrClosed) {
				r.set.Logger.Error("unixsocket: datagram socket failed, no longer reading: " + err.Error())
			}
			return
		}
		size := r.addBatch(sources, batch, n, withCred)
		sources.flush()
		pacer.Read(n, size, n == datagramsPerRead)
	}
}

// addBatch adds the n datagrams of the last read and returns their size.
func (r *unixSocketReceiver) addBatch(sources *datagramSources, batch *datagramBatch, n int, withCred bool) int {
	size := 0
	for i := range n {
		msg, oob, truncated := batch.message(i)
		size += len(msg)
		r.addDatagram(sources, msg, oob, truncated, withCred)
	}
	return size
}

// addDatagram adds one datagram as a message of its sender, without its
// trailing newlines and NULs; one the kernel cut to max_message_size is
// counted.
func (r *unixSocketReceiver) addDatagram(sources *datagramSources, msg, oob []byte, truncated, withCred bool) {
	known := false
	var p peer
	if withCred {
		var err error
		p, err = identifyDatagram(oob, r.cfg.Peer.SystemdUnit, sources.units)
		known = err == nil
	}
	if truncated {
		r.tel.Truncated()
	}
	for len(msg) > 0 && (msg[len(msg)-1] == '\n' || msg[len(msg)-1] == 0) {
		msg = msg[:len(msg)-1]
	}
	sources.linesOf(p, known).Add(msg)
}

// drainDatagrams reads, without waiting, the datagrams queued on the
// socket at shutdown, for at most datagramDrainTimeout: without a service
// manager holding the socket they would die with the process uncounted.
func (r *unixSocketReceiver) drainDatagrams(sources *datagramSources, batch *datagramBatch, raw syscall.RawConn, withCred bool) {
	defer sources.flush()
	end := time.Now().Add(datagramDrainTimeout)
	for time.Now().Before(end) {
		n, err := batch.readNow(raw)
		if err != nil || n == 0 {
			return
		}
		r.addBatch(sources, batch, n, withCred)
	}
}
