package unixsocketreceiver

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestMain doubles as a separate writer process for the refusing-consumer
// test: a program writing to the socket, whose write latency is not
// disturbed by the receiver's own runtime (GC, scheduler) in the test
// process.
func TestMain(m *testing.M) {
	if path := os.Getenv("LOGX_TEST_WRITER_SOCKET"); path != "" {
		os.Exit(runWriter(path))
	}
	os.Exit(m.Run())
}

// runWriter writes LOGX_TEST_WRITER_LINES lines to the unix stream socket
// in ~8 KiB writes, prints "half" after half of them and finally
// "maxblock <ns>", the longest time a single write took.
func runWriter(path string) int {
	total, err := strconv.Atoi(os.Getenv("LOGX_TEST_WRITER_LINES"))
	if err != nil {
		fmt.Println("bad LOGX_TEST_WRITER_LINES")
		return 2
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		fmt.Println("dial:", err)
		return 2
	}
	defer c.Close()
	var maxBlock time.Duration
	chunk := make([]byte, 0, 8192)
	for i := range total {
		chunk = fmt.Appendf(chunk, "<14>Nov 22 04:00:00 writer[1]: line %06d\n", i)
		if len(chunk) > 8000 || i == total-1 {
			start := time.Now()
			if _, err := c.Write(chunk); err != nil {
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
