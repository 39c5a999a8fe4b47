package cfjs1

import (
	"bytes"
	"fmt"
	"strconv"
)

// The acknowledgement protocol (docs/cfjs1.md, "Acknowledgements"). Control
// lines travel from sender to receiver; ack lines back.
const (
	// HelloLine asks the receiver to acknowledge the lines that follow.
	HelloLine = `{"cfjs1_ctl":"hello","version":1}` + "\n"
	// PingLine asks for the current acknowledgement.
	PingLine = `{"cfjs1_ctl":"ping"}` + "\n"
)

var controlPrefix = []byte(`{"cfjs1_ctl":`)

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

// AppendAck appends the ack line for n (newline included).
func AppendAck(dst []byte, n uint64) []byte {
	dst = append(dst, `{"ack":`...)
	dst = strconv.AppendUint(dst, n, 10)
	return append(dst, "}\n"...)
}

// ParseAck reads an ack line (with or without its newline).
func ParseAck(line []byte) (uint64, error) {
	line = bytes.TrimRight(line, "\r\n")
	if !bytes.HasPrefix(line, []byte(`{"ack":`)) || !bytes.HasSuffix(line, []byte("}")) {
		return 0, fmt.Errorf("cfjs1: %q is not an ack line", line)
	}
	n, err := strconv.ParseUint(string(line[len(`{"ack":`):len(line)-1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cfjs1: ack line %q: %w", line, err)
	}
	return n, nil
}
