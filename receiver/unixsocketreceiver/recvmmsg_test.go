package unixsocketreceiver

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/ingest"
	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestRecvmmsgBatch: one recvmmsg takes every queued datagram, each whole
// and apart from the others, an oversized one cut to its buffer and
// marked, each with its own sender's credentials (here two processes).
func TestRecvmmsgBatch(t *testing.T) {
	const size = 256
	path := filepath.Join(shortDir(t), "dg.sock")
	rc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	defer rc.Close()
	require.NoError(t, passCredentials(rc))
	wc, err := net.Dial("unixgram", path)
	require.NoError(t, err)
	defer wc.Close()

	// Fewer than the kernel's default queue of 10 datagrams a socket.
	sent := [][]byte{
		[]byte("a"),
		bytes.Repeat([]byte("b"), 100),
		[]byte("line one\nline two\n"), // one datagram, one message
		bytes.Repeat([]byte("c"), size),
		bytes.Repeat([]byte("d"), size+50), // cut to size
	}
	for _, m := range sent {
		_, err := wc.Write(m)
		require.NoError(t, err)
	}
	child := startChild(t, childOptions{cgroupFD: -1}, childDatagram, path, "from the child")
	require.Equal(t, "sent", child.line(t))
	sent = append(sent, []byte("from the child"))

	batch := newDatagramBatch(datagramsPerRead, size, oobSize)
	raw, err := rc.SyscallConn()
	require.NoError(t, err)
	n, err := batch.readNow(raw)
	require.NoError(t, err)
	require.Equal(t, len(sent), n, "one recvmmsg reads every queued datagram")
	for i := range n {
		msg, oob, truncated := batch.message(i)
		want := sent[i]
		assert.Equal(t, len(want) > size, truncated, "datagram %d", i)
		if len(want) > size {
			want = want[:size]
		}
		assert.Equal(t, string(want), string(msg), "datagram %d", i)
		p, err := identifyDatagram(oob, false, newUnitCache())
		require.NoError(t, err, "datagram %d has no credentials", i)
		wantPID := os.Getpid()
		if i == len(sent)-1 {
			wantPID = child.cmd.Process.Pid
		}
		assert.Equal(t, int32(wantPID), p.pid, "datagram %d", i)
		assert.Equal(t, uint32(os.Getuid()), p.uid, "datagram %d", i)
	}
	n, err = batch.readNow(raw)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing more queued")
}

// TestDatagramWriterNeverBlocks: a writer process sends one line per
// datagram at 50k lines/s for 1 s (as syslog(3) to /dev/log at a busy
// host) while every pipeline call takes 2 ms; no send blocks for 100 ms,
// and every datagram is delivered or counted as dropped.
func TestDatagramWriterNeverBlocks(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Transport = Datagram
		c.Buffer.MaxBytes = 4 << 20
	})
	h.sink.SetDelay(2 * time.Millisecond)
	child := startChild(t, childOptions{cgroupFD: -1}, childDatagramRate, h.cfg.Path, "50000,1000")
	var lines int
	var maxBlock time.Duration
	_, err := fmt.Sscanf(child.line(t), "sent %d %d", &lines, &maxBlock)
	require.NoError(t, err)
	child.wait(t)
	dropped := func() int64 { return h.counter("otelcol_logx_unixsocket_dropped_records", "") }
	testutil.WaitFor(t, 30*time.Second, "every datagram delivered or counted", func() bool {
		return int64(h.sink.LogRecordCount())+dropped() == int64(lines) && h.rcv.stage.Held() == 0
	})
	t.Logf("sent %d datagrams (50000/s asked), delivered %d, dropped %d, longest send %v",
		lines, h.sink.LogRecordCount(), dropped(), maxBlock)
	assert.Equal(t, dropped(), h.counter("otelcol_logx_unixsocket_dropped_records", ingest.ReasonBufferFull), "every drop has its reason")
	// The rate reached depends on the machine (and on -race): the kernel
	// queue (net.unix.max_dgram_qlen) paces the writer to the reader.
	assert.Greater(t, lines, 1000, "the writer sent")
	assert.Less(t, maxBlock, 100*time.Millisecond)
}
