package fiforeceiver

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestMain doubles as a separate writer process for the refusing-consumer
// test: a program writing to the FIFO, whose write latency is not
// disturbed by the receiver's own runtime (GC, scheduler) in the test
// process.
func TestMain(m *testing.M) {
	if path := os.Getenv("LOGX_TEST_WRITER_FIFO"); path != "" {
		os.Exit(runWriter(path))
	}
	os.Exit(m.Run())
}

// runWriter writes LOGX_TEST_WRITER_LINES lines to the FIFO (opened
// O_WRONLY, blocking, as programs do) in ~4 KiB writes, prints "half" after
// half of them and finally "maxblock <ns>", the longest a write took.
func runWriter(path string) int {
	total, err := strconv.Atoi(os.Getenv("LOGX_TEST_WRITER_LINES"))
	if err != nil {
		fmt.Println("bad LOGX_TEST_WRITER_LINES")
		return 2
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		fmt.Println("open:", err)
		return 2
	}
	defer f.Close()
	var maxBlock time.Duration
	chunk := make([]byte, 0, 4096)
	for i := range total {
		chunk = fmt.Appendf(chunk, "<14>Nov 22 04:00:00 writer[1]: line %06d\n", i)
		if len(chunk) > 4000 || i == total-1 {
			start := time.Now()
			if _, err := f.Write(chunk); err != nil {
				fmt.Println("write:", err)
				return 2
			}
			maxBlock = max(maxBlock, time.Since(start))
			chunk = chunk[:0]
		}
		if i == total/2 {
			fmt.Println("half")
		}
	}
	fmt.Println("maxblock", maxBlock.Nanoseconds())
	return 0
}
