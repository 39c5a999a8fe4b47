package cfjs1

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// The acknowledgement protocol (docs/cfjs1.md, "Acknowledgements"). Control
// lines travel from sender to receiver; ack and reject lines back.
//
// Version 1: the receiver answers with cumulative acks only; a line it
// drops is acknowledged like a delivered one.
// Version 2: before acknowledging a line it dropped, the receiver says so
// with a reject line naming the line and the reason, so that the sender
// counts it as rejected, not delivered.
const (
	// ProtocolVersion is the newest version this package speaks.
	ProtocolVersion = 2
	// HelloLine asks the receiver to acknowledge the lines that follow and
	// to report the ones it drops (version 2).
	HelloLine = `{"cfjs1_ctl":"hello","version":2}` + "\n"
	// HelloLineV1 is the version 1 hello: acks only, no rejects.
	HelloLineV1 = `{"cfjs1_ctl":"hello","version":1}` + "\n"
	// PingLine asks for the current acknowledgement.
	PingLine = `{"cfjs1_ctl":"ping"}` + "\n"
)

// MaxReasonLen bounds a reject's reason: reasons become metric attribute
// values on both sides, so they are short words from a small alphabet.
const MaxReasonLen = 32

// ReasonUnknown stands in for a reason that is empty.
const ReasonUnknown = "unknown"

var (
	controlPrefix = []byte(`{"cfjs1_ctl":`)
	helloPrefix   = []byte(`{"cfjs1_ctl":"hello"`)
	versionField  = []byte(`,"version":`)
	ackPrefix     = []byte(`{"ack":`)
	rejectPrefix  = []byte(`{"reject":`)
	reasonField   = []byte(`,"reason":"`)
)

// Control says what kind of control line line is (without its newline).
type Control uint8

const (
	NotControl Control = iota
	Hello
	Ping
	UnknownControl
)

// ParseControl tells a control line from a data line.
func ParseControl(line []byte) Control {
	if !bytes.HasPrefix(line, controlPrefix) {
		return NotControl
	}
	rest := line[len(controlPrefix):]
	switch {
	case bytes.HasPrefix(rest, []byte(`"hello"`)):
		return Hello
	case bytes.HasPrefix(rest, []byte(`"ping"`)):
		return Ping
	}
	return UnknownControl
}

// HelloVersion returns the protocol version a hello line (with or without
// its newline) asks for. A hello without a readable version is taken as
// version 1, the version that had no rejects: a receiver never sends a
// line the sender may not understand. A version above ProtocolVersion is
// answered as ProtocolVersion (each version only adds to the one before).
func HelloVersion(line []byte) int {
	line = bytes.TrimRight(line, "\r\n")
	if !bytes.HasPrefix(line, helloPrefix) {
		return 1
	}
	rest := line[len(helloPrefix):]
	if !bytes.HasPrefix(rest, versionField) {
		return 1
	}
	v, tail, ok := leadingUint(rest[len(versionField):])
	if !ok || string(tail) != "}" {
		return 1
	}
	return int(min(max(v, 1), ProtocolVersion))
}

// AppendAck appends the ack line for n (newline included).
func AppendAck(dst []byte, n uint64) []byte {
	dst = append(dst, ackPrefix...)
	dst = strconv.AppendUint(dst, n, 10)
	return append(dst, "}\n"...)
}

// AppendReject appends the reject line for data line n (newline
// included). The reason is sanitised as SanitizeReason does, so whatever
// a caller passes, the line is one the other side accepts.
func AppendReject(dst []byte, n uint64, reason string) []byte {
	dst = append(dst, rejectPrefix...)
	dst = strconv.AppendUint(dst, n, 10)
	dst = append(dst, reasonField...)
	dst = appendSanitizedReason(dst, reason)
	return append(dst, "\"}\n"...)
}

// SanitizeReason maps any string to a valid reason: letters lower-cased,
// any other byte outside [a-z0-9_] replaced by '_', cut to MaxReasonLen,
// empty replaced by ReasonUnknown.
func SanitizeReason(reason string) string {
	if ValidReason(reason) {
		return reason
	}
	return string(appendSanitizedReason(nil, reason))
}

func appendSanitizedReason(dst []byte, reason string) []byte {
	if reason == "" {
		return append(dst, ReasonUnknown...)
	}
	if len(reason) > MaxReasonLen {
		reason = reason[:MaxReasonLen]
	}
	for i := 0; i < len(reason); i++ {
		c := reason[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case !reasonByte(c):
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// ValidReason reports whether reason is 1 to MaxReasonLen bytes of
// [a-z0-9_].
func ValidReason(reason string) bool {
	if reason == "" || len(reason) > MaxReasonLen {
		return false
	}
	for i := 0; i < len(reason); i++ {
		if !reasonByte(reason[i]) {
			return false
		}
	}
	return true
}

func reasonByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// ParseAck reads an ack line (with or without its newline).
func ParseAck(line []byte) (uint64, error) {
	r, err := ParseReply(line)
	if err != nil {
		return 0, err
	}
	if r.Kind != ReplyAck {
		return 0, fmt.Errorf("cfjs1: %q is not an ack line", line)
	}
	return r.N, nil
}

// ReplyKind tells an ack from a reject.
type ReplyKind uint8

const (
	// ReplyAck settles every data line up to N as taken by the receiver,
	// except those rejected before it.
	ReplyAck ReplyKind = iota + 1
	// ReplyReject says data line N was dropped by the receiver, for Reason.
	ReplyReject
)

// Reply is one line from receiver to sender.
type Reply struct {
	Kind   ReplyKind
	N      uint64
	Reason string // set for ReplyReject; always a ValidReason
}

var errNotReply = errors.New("not an ack or reject line")

// ParseReply reads an ack or reject line (with or without its newline).
// The receiver is a peer, not trusted: only the exact forms AppendAck and
// AppendReject write are accepted, and a reject's reason must be a
// ValidReason (it becomes a metric attribute value).
func ParseReply(line []byte) (Reply, error) {
	line = bytes.TrimRight(line, "\r\n")
	switch {
	case bytes.HasPrefix(line, ackPrefix):
		n, rest, ok := leadingUint(line[len(ackPrefix):])
		if !ok || string(rest) != "}" {
			return Reply{}, fmt.Errorf("cfjs1: reply %.64q: %w", line, errNotReply)
		}
		return Reply{Kind: ReplyAck, N: n}, nil
	case bytes.HasPrefix(line, rejectPrefix):
		n, rest, ok := leadingUint(line[len(rejectPrefix):])
		if !ok || !bytes.HasPrefix(rest, reasonField) || !bytes.HasSuffix(rest, []byte(`"}`)) ||
			len(rest) < len(reasonField)+len(`"}`) {
			return Reply{}, fmt.Errorf("cfjs1: reply %.64q: %w", line, errNotReply)
		}
		reason := rest[len(reasonField) : len(rest)-len(`"}`)]
		if !ValidReason(string(reason)) {
			return Reply{}, fmt.Errorf("cfjs1: reject %d: reason %.64q is not 1 to %d bytes of [a-z0-9_]", n, reason, MaxReasonLen)
		}
		return Reply{Kind: ReplyReject, N: n, Reason: string(reason)}, nil
	}
	return Reply{}, fmt.Errorf("cfjs1: reply %.64q: %w", line, errNotReply)
}

// leadingUint reads the decimal at the start of b (at most 20 digits, no
// sign, no leading zero, fits uint64) and returns what follows it.
func leadingUint(b []byte) (uint64, []byte, bool) {
	i := 0
	for i < len(b) && i <= 20 && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 || i > 20 || i > 1 && b[0] == '0' {
		return 0, nil, false
	}
	n, err := strconv.ParseUint(string(b[:i]), 10, 64)
	if err != nil {
		return 0, nil, false
	}
	return n, b[i:], true
}
