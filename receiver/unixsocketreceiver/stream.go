package unixsocketreceiver

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
	"github.com/otelcol-logx/otelcol-logx/receiver/unixsocketreceiver/internal/metadata"
)

func (r *unixSocketReceiver) accept() {
	defer r.wg.Done()
	var backoff time.Duration
	for {
		c, err := r.listener.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// E.g. out of file descriptors: pause rather than spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			r.set.Logger.Warn("unixsocket: accept failed: " + err.Error())
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		r.mu.Lock()
		if r.closing || len(r.conns) >= r.cfg.MaxConnections {
			closing := r.closing
			r.mu.Unlock()
			_ = c.Close()
			if !closing {
				r.tel.RejectedConnections.Add(context.Background(), 1)
			}
			continue
		}
		r.conns[c] = struct{}{}
		r.wg.Add(1)
		r.mu.Unlock()
		go r.serve(c)
	}
}

// serve reads one stream connection until it ends.
func (r *unixSocketReceiver) serve(c *net.UnixConn) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		_ = c.Close()
	}()
	peer := r.peerOf(c)
	lines := ingest.NewLines(ingest.LinesSettings{
		Stage:           r.stage,
		Parser:          syslog.Parser{Format: r.cfg.Format},
		Scope:           metadata.ScopeName,
		Decorate:        peer.decorate,
		ExtraAttributes: 5,
		OnParseError:    r.tel.Malformed,
	})
	err := ingest.ReadFrames(framing.NewDecoder(c, r.cfg.Framing, r.cfg.MaxMessageSize), lines, r.tel.ReaderTelemetry)
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		r.set.Logger.Debug("unixsocket: connection ended: " + err.Error())
	}
}

// peerInfo is what is known of a connection's writer.
type peerInfo struct {
	known           bool
	pid, uid, gid   int64
	unit            string
	fallbackService string
	withCredentials bool
}

func (r *unixSocketReceiver) peerOf(c *net.UnixConn) *peerInfo {
	p := &peerInfo{fallbackService: r.cfg.DefaultService, withCredentials: r.cfg.Peer.Credentials}
	if !r.cfg.Peer.Credentials {
		return p
	}
	cred, err := peerCredentials(c)
	if err != nil {
		r.set.Logger.Debug("unixsocket: SO_PEERCRED failed: " + err.Error())
		return p
	}
	p.known = true
	p.pid, p.uid, p.gid = int64(cred.Pid), int64(cred.Uid), int64(cred.Gid)
	if r.cfg.Peer.SystemdUnit {
		p.unit = systemdUnit("/proc/" + strconv.Itoa(int(cred.Pid)) + "/cgroup")
	}
	return p
}

func (p *peerInfo) decorate(lr plog.LogRecord) {
	if p.known {
		attrs := lr.Attributes()
		attrs.PutInt(logattr.PeerPID, p.pid)
		attrs.PutInt(logattr.PeerUID, p.uid)
		attrs.PutInt(logattr.PeerGID, p.gid)
		if p.unit != "" {
			attrs.PutStr(logattr.SystemdUnit, p.unit)
		}
	}
	ingest.SetService(lr, p.unit, p.fallbackService)
}
