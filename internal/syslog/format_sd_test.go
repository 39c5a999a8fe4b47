package syslog

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/xpdata"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// sdRecord is a record with n syslog.sd.* attributes spread over ids
// elements (and a plain attribute every 7th), built without the search a
// put does, so that building it is not what is measured.
func sdRecord(n, ids int) plog.LogRecord {
	rec := plog.NewLogRecord()
	rec.Body().SetStr("m")
	var mb xpdata.MapBuilder
	mb.EnsureCapacity(n + n/7 + 1)
	for i := range n {
		mb.AppendEmpty(fmt.Sprintf("syslog.sd.e%d@1.p%d", i%ids, i)).SetStr("v")
		if i%7 == 0 {
			mb.AppendEmpty(fmt.Sprintf("other.%d", i)).SetInt(int64(i))
		}
	}
	mb.UnsafeIntoMap(rec.Attributes())
	return rec
}

func TestFormatSDGroupedAsPairwise(t *testing.T) {
	for _, c := range []struct{ n, ids int }{{17, 1}, {17, 17}, {40, 3}, {100, 7}} {
		rec := sdRecord(c.n, c.ids)
		grouped := string(formatRecordSDGrouped(nil, rec.Attributes()))
		assert.Equal(t, string(formatRecordSDPairwise(nil, rec.Attributes())), grouped, "%+v", c)
		assert.Equal(t, c.ids, strings.Count(grouped, "["), "one element per id")
	}
}

// FuzzFormatSDGroupedAsPairwise is a differential check of the linear
// grouping of SD attributes into elements against the pairwise one.
func FuzzFormatSDGroupedAsPairwise(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 1, 0, 3})
	f.Add([]byte(strings.Repeat("\x00\x01\x02\xff", 30)))
	f.Fuzz(func(t *testing.T, spec []byte) {
		spec = spec[:min(len(spec), 300)]
		rec := plog.NewLogRecord()
		a := rec.Attributes()
		for i, c := range spec {
			switch {
			case c == 0xff:
				a.PutStr(fmt.Sprintf("not.sd.%d", i), "x")
			case c == 0xfe:
				a.PutStr("syslog.sd.noparam", "x")
			default:
				a.PutStr(fmt.Sprintf("syslog.sd.id%d.p%d", c%9, c%13), fmt.Sprintf("v%d", i))
			}
		}
		want := string(formatRecordSDPairwise(nil, a))
		if got := string(formatRecordSDGrouped(nil, a)); got != want {
			t.Fatalf("grouped\n%s\npairwise\n%s", got, want)
		}
	})
}

// formatSDCostRatioLimit bounds the CPU of one record of 20000 SD
// attributes over that of 20 records of 1000. Linear grouping measures 2
// to 3.5 (the large record's attributes do not fit in the CPU cache, the
// small ones' do); grouping pairwise, 15 to 30.
const formatSDCostRatioLimit = 8

// TestFormatSDCostLinear formats a record with 20000 SD attributes and
// holds its CPU to that of 20 records of 1000: writing them must cost about
// the same per attribute however many a record has (a record from a cfjs1
// line can carry any number).
func TestFormatSDCostLinear(t *testing.T) {
	big := sdRecord(20000, 2000)
	var small []plog.LogRecord
	for range 20 {
		small = append(small, sdRecord(1000, 100))
	}
	o := &RFC5424Options{}
	format := func(recs ...plog.LogRecord) time.Duration {
		buf := make([]byte, 0, 2<<20) // the output: not what is measured
		return testutil.MeasureThreadCPU(func() {
			for _, r := range recs {
				buf = AppendRFC5424(buf[:0], pcommon.Map{}, r, o)
			}
		})
	}
	// Each side's least of five runs: what the work costs when nothing
	// else (a page fault, a migration, the shared machine's cache) got in
	// the way.
	least := func(recs ...plog.LogRecord) time.Duration {
		best := time.Duration(math.MaxInt64)
		for range 5 {
			best = min(best, format(recs...))
		}
		return best
	}
	smallCPU, bigCPU := least(small...), least(big)
	ratio := float64(bigCPU) / float64(smallCPU)
	t.Logf("20000 attributes in one record %v, in 20 records %v: ratio %.2f", bigCPU, smallCPU, ratio)
	assert.LessOrEqual(t, ratio, float64(formatSDCostRatioLimit), "CPU per SD attribute of a record with many")
}
