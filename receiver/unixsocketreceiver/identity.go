package unixsocketreceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/logattr"
	"github.com/otelcol-logx/otelcol-logx/internal/sharedvalue"
)

// peerAttributes is the most attributes peerInfo.decorate adds to a record.
const peerAttributes = 8

// peerInfo is what a record gets from its writer, as values made once per
// writer and shared by all of its records (internal/sharedvalue).
type peerInfo struct {
	attrs   []peerAttr // pid, uid, gid, units, trust
	trusted bool
	// service is logx.service unless it is the app name (trusted: the
	// unit; else the writer's uid, or default_service).
	service     sharedvalue.Value
	serviceName string
	hasService  bool
	// appNameFirst: untrusted, and untrusted_service is app_name, so the
	// app name goes before service.
	appNameFirst bool
}

// serviceKey tells the Stage the service of this writer's lines before
// they are parsed, as decorate will write it, so that a full buffer drops
// from the service holding the most (the buffer's fair share).
func (pi *peerInfo) serviceKey() *ingest.ServiceKey {
	if pi.appNameFirst {
		return ingest.AppNameServiceKey(pi.serviceName)
	}
	return ingest.FixedServiceKey(pi.serviceName)
}

type peerAttr struct {
	key   string
	value sharedvalue.Value
}

func strValue(s string) sharedvalue.Value { return sharedvalue.Of(pcommon.NewValueStr(s)) }

func intValue(i int64) sharedvalue.Value { return sharedvalue.Of(pcommon.NewValueInt(i)) }

// newPeerInfo decides what records from p say about their writer. The
// service identity is the system unit when the kernel told it; else it is
// not the app name the writer claims (any process can write "sshd"), but
// the writer's uid (uid-1000), and the app name goes to
// logx.service.claimed; untrusted_service: app_name (or credentials
// switched off, when there is no uid to take) takes the app name instead.
func (r *unixSocketReceiver) newPeerInfo(p peer) *peerInfo {
	pi := &peerInfo{}
	if p.hasCred && r.cfg.Peer.Credentials {
		pi.attrs = append(pi.attrs,
			peerAttr{logattr.PeerPID, intValue(int64(p.pid))},
			peerAttr{logattr.PeerUID, intValue(int64(p.uid))},
			peerAttr{logattr.PeerGID, intValue(int64(p.gid))})
	}
	if r.cfg.Peer.SystemdUnit && p.unitChecked && p.units.system != "" {
		pi.trusted = true
		pi.attrs = append(pi.attrs, peerAttr{logattr.SystemdUnit, strValue(p.units.system)})
		if p.units.user != "" {
			pi.attrs = append(pi.attrs, peerAttr{logattr.SystemdUserUnit, strValue(p.units.user)})
		}
		pi.setService(p.units.system)
	} else {
		// With peer.credentials off the kernel tells nothing about the
		// writer: the app name it claims is all there is (still marked
		// untrusted), as untrusted_service: app_name asks for knowingly.
		pi.appNameFirst = r.cfg.Peer.UntrustedService == UntrustedAppName || !r.cfg.Peer.Credentials
		switch {
		case !pi.appNameFirst && p.hasCred && r.cfg.Peer.Credentials:
			pi.setService(uidService(p.uid))
		case r.cfg.DefaultService != "":
			pi.setService(r.cfg.DefaultService)
		}
	}
	pi.attrs = append(pi.attrs, peerAttr{logattr.ServiceTrusted, sharedvalue.Of(pcommon.NewValueBool(pi.trusted))})
	return pi
}

func (pi *peerInfo) setService(name string) {
	pi.service, pi.serviceName, pi.hasService = strValue(name), name, true
}

func (pi *peerInfo) decorate(lr plog.LogRecord) {
	attrs := lr.Attributes()
	for i := range pi.attrs {
		pi.attrs[i].value.CopyTo(attrs.PutEmpty(pi.attrs[i].key))
	}
	if pi.trusted {
		pi.service.CopyTo(attrs.PutEmpty(logattr.Service))
		return
	}
	if app, ok := attrs.Get(logattr.SyslogAppName); ok && app.Str() != "" {
		// Taken before PutEmpty, which may move the attributes.
		shared := sharedvalue.Of(app)
		shared.CopyTo(attrs.PutEmpty(logattr.ServiceClaimed))
		if pi.appNameFirst {
			shared.CopyTo(attrs.PutEmpty(logattr.Service))
			return
		}
	}
	if pi.hasService {
		pi.service.CopyTo(attrs.PutEmpty(logattr.Service))
	}
}
