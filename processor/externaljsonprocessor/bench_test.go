package externaljsonprocessor

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

const benchFields = 10

// benchFields10 is 10 prepared fields, as a refresh would leave them:
// strings, an int and a bool.
func benchFields10(p conflictPolicy) []field {
	var fields []field
	for i := range benchFields {
		var v pcommon.Value
		switch i % 5 {
		case 3:
			v = pcommon.NewValueInt(int64(i))
		case 4:
			v = pcommon.NewValueBool(true)
		default:
			v = pcommon.NewValueStr(fmt.Sprintf("value-%d", i))
		}
		fields = append(fields, newField(fmt.Sprintf("ext.field_%02d", i), v, p))
	}
	return fields
}

// benchFieldSet is benchFields10 as record fields, prepared as rebuild does.
func benchFieldSet(p conflictPolicy) *fieldSet { return newFieldSet(benchFields10(p), nil) }

// benchBatch is one batch of n records with 4 attributes of their own, like
// a receiver's output.
func benchBatch(n int) plog.Logs { return benchBatchAttrs(n, true) }

// benchBatchAttrs is benchBatch, with records that have no attributes of
// their own when ownAttrs is false (e.g. a receiver that only sets the body).
func benchBatchAttrs(n int, ownAttrs bool) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for range n {
		lr := lrs.AppendEmpty()
		lr.Body().SetStr("GET /index.html 200")
		if !ownAttrs {
			continue
		}
		a := lr.Attributes()
		a.PutStr("logx.service", "nginx")
		a.PutStr("syslog.appname", "nginx")
		a.PutInt("syslog.facility", 3)
		a.PutStr("syslog.procid", "1234")
	}
	return ld
}

// BenchmarkEnrich10Fields: one op is one record getting 10 fields through
// the hot path (processLogs). Records arrive in batches of 1000, each built
// with the timer stopped just before it is enriched (warm in cache, as a
// batch a receiver has just made), so allocs/op counts enrichment only.
func BenchmarkEnrich10Fields(b *testing.B) {
	for _, tc := range []struct {
		name     string
		fs       *fieldSet
		ownAttrs bool
	}{
		{"upsert", benchFieldSet(policyUpsert), true},
		{"insert", benchFieldSet(policyInsert), true},
		// Records without attributes of their own (body only).
		{"upsert_noattrs", benchFieldSet(policyUpsert), false},
		// The same through apply alone (pdata's Put*, which scans the map
		// for every key): what the prepared path saves.
		{"upsert_unprepared", &fieldSet{record: benchFields10(policyUpsert)}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := &enricher{}
			e.current.Store(tc.fs)
			const batch, poolSize = 1000, 1
			ctx := context.Background()
			var pool []plog.Logs
			var cpu cpuClock
			refill := func(left int) {
				cpu.stop()
				b.StopTimer()
				pool = pool[:0]
				for left > 0 && len(pool) < poolSize {
					n := min(batch, left)
					pool = append(pool, benchBatchAttrs(n, tc.ownAttrs))
					left -= n
				}
				b.StartTimer()
				cpu.start()
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu.start()
			for done := 0; done < b.N; {
				if len(pool) == 0 {
					refill(b.N - done)
				}
				ld := pool[len(pool)-1]
				pool = pool[:len(pool)-1]
				done += ld.LogRecordCount()
				if _, err := e.processLogs(ctx, ld); err != nil {
					b.Fatal(err)
				}
			}
			cpu.stop()
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchFields, "ns/field")
			b.ReportMetric(float64(cpu.total.Nanoseconds())/float64(b.N)/benchFields, "cpu-ns/field")
		})
	}
}

// BenchmarkEnrich10FieldsOverwrite: the records already carry the 10 keys
// (e.g. a second pass, or upstream set them): the update-in-place path.
func BenchmarkEnrich10FieldsOverwrite(b *testing.B) {
	e := &enricher{}
	e.current.Store(benchFieldSet(policyUpsert))
	ld := benchBatch(1000)
	ctx := context.Background()
	_, _ = e.processLogs(ctx, ld)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += 1000 {
		if _, err := e.processLogs(ctx, ld); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// One processLogs enriches 1000 records: report per record and field.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchFields, "ns/field")
}

// BenchmarkEnrich10FieldsResource: the same 10 fields with target: resource
// are added once per resource, not once per record. One op is still one
// record (of a 1000-record batch from one resource).
func BenchmarkEnrich10FieldsResource(b *testing.B) {
	e := &enricher{}
	e.current.Store(newFieldSet(nil, benchFields10(policyUpsert)))
	const batch = 1000
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		b.StopTimer()
		ld := benchBatch(min(batch, b.N-done))
		b.StartTimer()
		if _, err := e.processLogs(ctx, ld); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchFields, "ns/field")
}
