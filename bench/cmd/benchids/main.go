// Command benchids tells, for one side of the S3 fan-out, how many input
// lines reached it: the request ids it got directly (benchsink -ids of that
// side, FILE.direct) and as dead-letter copies on the other side (FILE.dead
// of the other sink). It prints "direct dead unique duplicates lost", where
// lost is the number of input lines that reached the side by neither way.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
)

func main() {
	direct := flag.String("direct", "", "ids prefix of the side's own sink (reads PREFIX.direct)")
	dead := flag.String("dead", "", "ids prefix of the other sink (reads PREFIX.dead)")
	want := flag.Int("want", 0, "number of distinct input lines")
	flag.Parse()

	seen := make(map[uint64]struct{}, *want)
	var counts [2]int
	for i, path := range []string{*direct + ".direct", *dead + ".dead"} {
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchids:", err)
			os.Exit(1)
		}
		for off := 0; off+8 <= len(b); off += 8 {
			seen[binary.LittleEndian.Uint64(b[off:])] = struct{}{}
			counts[i]++
		}
	}
	unique := len(seen)
	fmt.Printf("%d %d %d %d %d\n", counts[0], counts[1], unique, counts[0]+counts[1]-unique, max(0, *want-unique))
}
