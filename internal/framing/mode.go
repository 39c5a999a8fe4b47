package framing

import "fmt"

// Mode selects how a stream is split into frames.
type Mode uint8

const (
	// Newline splits on '\n'; a '\r' before it is removed as well.
	Newline Mode = iota
	// OctetCounting reads RFC 6587 section 3.4.1 frames: decimal length,
	// one space, then exactly that many bytes.
	OctetCounting
	// Auto picks OctetCounting when the first byte of the stream is a digit
	// 1-9 and Newline otherwise (a syslog line starts with '<'). The choice
	// holds for the rest of the stream.
	Auto
)

var modeNames = [...]string{Newline: "newline", OctetCounting: "octet_counting", Auto: "auto"}

// String returns the configuration name of the mode.
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", m)
}

// MarshalText implements encoding.TextMarshaler.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText accepts "newline", "octet_counting" or "auto", so a Mode can
// be a field of a component's Config.
func (m *Mode) UnmarshalText(text []byte) error {
	for i, n := range modeNames {
		if string(text) == n {
			*m = Mode(i)
			return nil
		}
	}
	return fmt.Errorf("framing %q is not known: write one of \"newline\", \"octet_counting\" or \"auto\"", text)
}
