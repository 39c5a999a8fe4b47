package journalfile

import (
	"testing"
)

// FuzzOpen: whatever the bytes, reading a file ends (in an error or
// io.EOF) without panicking, looping or allocating past the limits. Seeds
// (testdata/fuzz/FuzzOpen) are real files from systemd-journal-remote, cut
// down by minimalCopy.
//
//	go test -run '^$' -fuzz FuzzOpen -fuzztime 30s -fuzzminimizetime 10x ./internal/journalfile/
//
// (minimizing each new input of a 12 KB seed takes the default 60 s, in
// which no new inputs are tried)
func FuzzOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = readEverything(data)
	})
}
