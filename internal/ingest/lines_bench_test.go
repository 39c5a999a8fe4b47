package ingest

import (
	"testing"
	"time"

	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// BenchmarkBuildRFC3164 is the receivers' parse path: batches of 1024
// ~180-byte RFC 3164 lines built into plog.Logs with the service identity
// added, as the Stage's sender does. ns/op and allocs/op are per line.
func BenchmarkBuildRFC3164(b *testing.B) {
	line := []byte("<30>Nov 22 04:00:00 nginx[4242]: 10.0.0.1 - - \"GET /api/v1/items?id=12345 HTTP/1.1\" 200 1532 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.012 uct=0.001 uht=0.011 urt=0.011 req=abcdef")
	identity := NewServiceIdentity("", "")
	set := LinesSettings{
		Parser:          syslog.Parser{Format: syslog.FormatAuto, Location: time.UTC},
		Decorate:        identity.Set,
		ExtraAttributes: 1,
	}
	var arena []byte
	var ends []int
	for range MaxBatchRecords {
		arena = append(arena, line...)
		ends = append(ends, len(arena))
	}
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += MaxBatchRecords {
		n := min(MaxBatchRecords, b.N-done)
		ld := set.build(arena[:ends[n-1]], ends[:n], 1)
		if ld.LogRecordCount() != n {
			b.Fatal("short batch")
		}
	}
}

// BenchmarkLinesAddServiceKey is what telling a line's service costs the
// reader (ns/op per line): none, a fixed key, or the app name read from
// the header, for lines of one service (runs of one batch).
func BenchmarkLinesAddServiceKey(b *testing.B) {
	line := []byte("<30>Nov 22 04:00:00 nginx[4242]: GET /api/v1/items?id=12345 HTTP/1.1 200")
	for _, tc := range []struct {
		name string
		key  *ServiceKey
	}{{"none", nil}, {"fixed", FixedServiceKey("nginx.service")}, {"app_name", AppNameServiceKey("fallback")}} {
		b.Run(tc.name, func(b *testing.B) {
			s := NewStage(BufferConfig{MaxBytes: 1 << 40}, StageSettings{Next: &switchConsumer{}})
			lines := NewLines(LinesSettings{Stage: s, Parser: syslog.Parser{Format: syslog.FormatAuto}, ServiceKey: tc.key})
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				lines.Add(line)
			}
			lines.Flush()
		})
	}
}
