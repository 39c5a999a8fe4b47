package otlprecord

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
)

func TestProtoRoundTrip(t *testing.T) {
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
	e := NewProtoEncoder()
	e.SetResource(rl)
	e.SetScope(sl)
	for i, body := range []string{"one", "two"} {
		p, err := e.Encode(sl.LogRecords().At(i))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeProto(p)
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
	if _, err := DecodeProto(nil); err == nil {
		t.Fatal("empty payload decoded")
	}
	var m plog.ProtoMarshaler
	two, _ := m.MarshalLogs(ld)
	if _, err := DecodeProto(two); err != ErrNotOneRecord {
		t.Fatalf("two records: %v", err)
	}
}

// readGolden splits testdata/records-proto.golden: uvarint-length-prefixed
// payloads, written by the tenant buffer's encoder before this package
// (the bytes its segments on disk hold).
func readGolden(t *testing.T) [][]byte {
	b, err := os.ReadFile("testdata/records-proto.golden")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			t.Fatal("golden file truncated")
		}
		out = append(out, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return out
}

// Payloads already on disk still decode to the records they were made
// of, and the encoders write those very bytes again: the tenant buffer
// through its ProtoEncoder, the Kafka exporter through AppendProto.
func TestProtoGolden(t *testing.T) {
	golden := readGolden(t)
	ld := goldenLogs()
	if len(golden) != ld.LogRecordCount() {
		t.Fatalf("%d golden payloads for %d records", len(golden), ld.LogRecordCount())
	}
	e := NewProtoEncoder()
	var m plog.ProtoMarshaler
	i := 0
	eachRecord(ld, func(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) {
		dec, err := DecodeProto(golden[i])
		if err != nil {
			t.Fatalf("payload %d: %v", i, err)
		}
		want, _ := m.MarshalLogs(oneRecordLogs(rl, sl, lr))
		if got, _ := m.MarshalLogs(dec); !bytes.Equal(got, want) {
			t.Fatalf("payload %d decodes to other logs", i)
		}
		e.SetResource(rl)
		e.SetScope(sl)
		p, err := e.Encode(lr)
		if err != nil || !bytes.Equal(p, golden[i]) {
			t.Fatalf("encoder payload %d differs from the golden one (%v)", i, err)
		}
		p, err = AppendProto([]byte("x"), rl, sl, lr)
		if err != nil || !bytes.Equal(p[1:], golden[i]) || p[0] != 'x' {
			t.Fatalf("AppendProto payload %d differs from the golden one (%v)", i, err)
		}
		i++
	})
}

func FuzzDecodeProto(f *testing.F) {
	e := NewProtoEncoder()
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("seed")
	p, _ := e.Encode(lr)
	f.Add(p)
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		ld, err := DecodeProto(b)
		if err == nil && ld.LogRecordCount() != 1 {
			t.Fatal("decoded payload without exactly one record")
		}
	})
}
