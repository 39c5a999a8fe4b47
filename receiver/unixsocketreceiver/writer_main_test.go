package unixsocketreceiver

import (
	"io"
	"net"
	"os"
	"testing"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestMain doubles as a separate writer process for the refusing-consumer
// test (see testutil.RunWriterProcess): a program that writes to the unix
// stream socket ~8 KiB at a time.
func TestMain(m *testing.M) {
	testutil.RunWriterProcess(func(path string) (io.WriteCloser, error) {
		return net.Dial("unix", path)
	}, 8192)
	os.Exit(m.Run())
}
