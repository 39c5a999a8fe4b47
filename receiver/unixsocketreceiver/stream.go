package unixsocketreceiver

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/sharedvalue"
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
		if !r.closing && len(r.conns) >= r.cfg.MaxConnections {
			r.mu.Unlock()
			_ = c.Close()
			r.tel.RejectedConnections.Add(context.Background(), 1)
			continue
		}
		if r.closing {
			// Accepted as Shutdown began: taken off the socket's backlog,
			// this connection is no one else's to read, so it is read
			// within the same bound as the others.
			_ = c.SetReadDeadline(time.Now().Add(connDrainTimeout))
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

// peerInfo is what is known of a connection's writer, as values made once
// per connection and shared by all of its records (internal/sharedvalue).
type peerInfo struct {
	attrs    []peerAttr // pid, uid, gid and systemd unit, when known
	identity ingest.ServiceIdentity
}

type peerAttr struct {
	key   string
	value sharedvalue.Value
}

func (r *unixSocketReceiver) peerOf(c *net.UnixConn) *peerInfo {
	p := &peerInfo{}
	unit := ""
	if r.cfg.Peer.Credentials {
		if cred, err := peerCredentials(c); err != nil {
			r.set.Logger.Debug("unixsocket: SO_PEERCRED failed: " + err.Error())
		} else {
			p.attrs = []peerAttr{
				{logattr.PeerPID, sharedvalue.Of(pcommon.NewValueInt(int64(cred.Pid)))},
				{logattr.PeerUID, sharedvalue.Of(pcommon.NewValueInt(int64(cred.Uid)))},
				{logattr.PeerGID, sharedvalue.Of(pcommon.NewValueInt(int64(cred.Gid)))},
			}
			if r.cfg.Peer.SystemdUnit {
				unit = systemdUnit("/proc/" + strconv.Itoa(int(cred.Pid)) + "/cgroup")
			}
			if unit != "" {
				p.attrs = append(p.attrs, peerAttr{logattr.SystemdUnit, sharedvalue.Of(pcommon.NewValueStr(unit))})
			}
		}
	}
	p.identity = ingest.NewServiceIdentity(unit, r.cfg.DefaultService)
	return p
}

func (p *peerInfo) decorate(lr plog.LogRecord) {
	attrs := lr.Attributes()
	for i := range p.attrs {
		p.attrs[i].value.CopyTo(attrs.PutEmpty(p.attrs[i].key))
	}
	p.identity.Set(lr)
}
