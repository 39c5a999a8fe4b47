package fiforeceiver

import (
	"io"
	"os"
	"testing"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// TestMain doubles as a separate writer process for the refusing-consumer
// test (see testutil.RunWriterProcess): a program that opens the FIFO
// O_WRONLY, blocking, as programs do, and writes ~4 KiB at a time.
func TestMain(m *testing.M) {
	testutil.RunWriterProcess(func(path string) (io.WriteCloser, error) {
		return os.OpenFile(path, os.O_WRONLY, 0)
	}, 4096)
	os.Exit(m.Run())
}
