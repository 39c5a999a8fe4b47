package unixsocketreceiver

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

// datagramFlushDelay bounds how long a datagram waits in a batch when no
// more arrive.
const datagramFlushDelay = 5 * time.Millisecond

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
				_ = r.packet.SetReadDeadline(time.Time{})
				deadlineSet = false
				continue
			}
			lines.Flush()
			if !errors.Is(err, net.ErrClosed) {
				r.set.Logger.Error("unixsocket: datagram socket failed, no longer reading: " + err.Error())
			}
			return
		}
		msg := buf[:n]
		if n > r.cfg.MaxMessageSize {
			msg = msg[:r.cfg.MaxMessageSize]
			r.tel.Truncated()
		}
		for len(msg) > 0 && (msg[len(msg)-1] == '\n' || msg[len(msg)-1] == 0) {
			msg = msg[:len(msg)-1]
		}
		lines.Add(msg)
		if !deadlineSet {
			_ = r.packet.SetReadDeadline(time.Now().Add(datagramFlushDelay))
			deadlineSet = true
		}
	}
}
