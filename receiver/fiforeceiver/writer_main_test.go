package fiforeceiver

import (
	"io"
	"os"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// The test binary doubles as a separate writer process for the refusing-consumer
// test (see testutil.RunWriterProcess): a program that opens the FIFO
// O_WRONLY, blocking, as programs do, and writes ~4 KiB at a time.
//
// runAsWriterChild makes it one when the test that started it asked for
// one (it then exits); the generated TestMain calls it first (metadata.yaml
// tests.goleak.setup).
func runAsWriterChild() {
	testutil.RunWriterProcess(func(path string) (io.WriteCloser, error) {
		return os.OpenFile(path, os.O_WRONLY, 0)
	}, 4096)
}
