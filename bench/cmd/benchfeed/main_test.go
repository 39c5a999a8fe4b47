package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func writeInput(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.txt")
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// One line per datagram, without its newline, the input repeated up to
// rate×seconds lines, paced (not faster than the rate).
func TestDatagramOneLinePerSendAtRate(t *testing.T) {
	in := writeInput(t, "<14>Nov 22 04:00:00 a[1]: one", "<14>Nov 22 04:00:00 b[2]: two", "<14>Nov 22 04:00:00 c[3]: three")
	sock := filepath.Join(t.TempDir(), "dgram")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan []string, 1)
	go func() {
		var msgs []string
		buf := make([]byte, 4096)
		for len(msgs) < 1000 {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := c.Read(buf)
			if err != nil {
				break
			}
			msgs = append(msgs, string(buf[:n]))
		}
		got <- msgs
	}()
	res, err := run(options{in: in, dgramPath: sock, rate: 2000, seconds: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Lines != 1000 || res.Writes != 1000 {
		t.Fatalf("lines %d writes %d, want 1000 each", res.Lines, res.Writes)
	}
	if res.Seconds < 0.45 {
		t.Fatalf("1000 lines at 2000/s took %.3f s: not paced", res.Seconds)
	}
	msgs := <-got
	if len(msgs) != 1000 {
		t.Fatalf("received %d datagrams, want 1000", len(msgs))
	}
	if msgs[0] != "<14>Nov 22 04:00:00 a[1]: one" || msgs[3] != msgs[0] || msgs[2] != "<14>Nov 22 04:00:00 c[3]: three" {
		t.Fatalf("datagrams %q", msgs[:4])
	}
}

// -per-write 1 on a FIFO: every line its own write; -stamp puts the send
// time in place of the request id.
func TestFIFOPerWriteStamp(t *testing.T) {
	in := writeInput(t, "x req=0000000000000001 a", "y req=0000000000000002 b")
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	read := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			read <- nil
			return
		}
		defer f.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(f)
		read <- b.Bytes()
	}()
	before := time.Now().UnixNano()
	res, err := run(options{in: in, fifo: fifo, rate: 1000, perWrite: 1, maxLines: 10, stamp: true})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixNano()
	if res.Writes != 10 || res.Lines != 10 {
		t.Fatalf("writes %d lines %d, want 10 each", res.Writes, res.Lines)
	}
	out := <-read
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(lines) != 10 {
		t.Fatalf("%d lines read: %q", len(lines), out)
	}
	for _, l := range lines {
		i := bytes.Index(l, reqPrefix)
		ts, err := strconv.ParseUint(string(l[i+4:i+20]), 16, 64)
		if err != nil || int64(ts) < before || int64(ts) > after {
			t.Fatalf("line %q: stamp %d not within [%d, %d] (%v)", l, ts, before, after, err)
		}
	}
}
