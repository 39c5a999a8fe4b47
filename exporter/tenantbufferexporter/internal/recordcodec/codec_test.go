package recordcodec

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
)

func TestRoundTrip(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "h1")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("scope")
	for _, body := range []string{"one", "two"} {
		lr := sl.LogRecords().AppendEmpty()
		lr.Body().SetStr(body)
		lr.Attributes().PutStr("logx.tenant", "acme")
	}
	e := NewEncoder()
	e.SetResource(rl)
	e.SetScope(sl)
	for i, body := range []string{"one", "two"} {
		p, err := e.Encode(sl.LogRecords().At(i))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(p)
		if err != nil {
			t.Fatal(err)
		}
		r := got.ResourceLogs().At(0)
		if h, _ := r.Resource().Attributes().Get("host.name"); h.Str() != "h1" {
			t.Fatalf("resource lost")
		}
		if r.ScopeLogs().At(0).Scope().Name() != "scope" || r.ScopeLogs().At(0).LogRecords().At(0).Body().Str() != body {
			t.Fatalf("record %d wrong", i)
		}
	}
	if _, err := Decode(nil); err == nil {
		t.Fatal("empty payload decoded")
	}
}

func FuzzDecode(f *testing.F) {
	e := NewEncoder()
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("seed")
	p, _ := e.Encode(lr)
	f.Add(p)
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		ld, err := Decode(b)
		if err == nil && ld.LogRecordCount() != 1 {
			t.Fatal("decoded payload without exactly one record")
		}
	})
}
