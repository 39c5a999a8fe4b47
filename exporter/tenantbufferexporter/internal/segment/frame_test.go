package segment

import (
	"bytes"
	"errors"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var b []byte
	b = AppendFrame(b, 42, []byte("hello"))
	b = AppendFrame(b, 43, nil)
	ts, p, n, err := DecodeFrame(b, 1<<20)
	if err != nil || ts != 42 || string(p) != "hello" || n != FrameSize(5) {
		t.Fatalf("got ts=%d p=%q n=%d err=%v", ts, p, n, err)
	}
	ts, p, _, err = DecodeFrame(b[n:], 1<<20)
	if err != nil || ts != 43 || len(p) != 0 {
		t.Fatalf("second frame: ts=%d p=%q err=%v", ts, p, err)
	}
}

func TestDecodeDetectsDamage(t *testing.T) {
	f := AppendFrame(nil, 7, []byte("payload"))
	if _, _, _, err := DecodeFrame(f[:len(f)-1], 1<<20); !errors.Is(err, ErrShort) {
		t.Fatalf("truncated: %v", err)
	}
	bad := bytes.Clone(f)
	bad[len(bad)-1] ^= 1
	if _, _, _, err := DecodeFrame(bad, 1<<20); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped bit: %v", err)
	}
	if _, _, _, err := DecodeFrame(f, 3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("over max length: %v", err)
	}
}

func TestScanCutsTornAndCorruptTails(t *testing.T) {
	var b []byte
	for i := 0; i < 10; i++ {
		b = AppendFrame(b, int64(i), bytes.Repeat([]byte{'x'}, i*10))
	}
	full := int64(len(b))
	res, err := Scan(bytes.NewReader(b), 1<<20)
	if err != nil || res.ValidBytes != full || res.Records != 10 || res.LastTS != 9 || res.Torn || res.Corrupt {
		t.Fatalf("clean scan: %+v %v", res, err)
	}
	// Every possible torn length keeps exactly the whole frames before it.
	for cut := 0; cut < len(b); cut++ {
		res, err := Scan(bytes.NewReader(b[:cut]), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if res.ValidBytes > int64(cut) || (res.ValidBytes < int64(cut) && !res.Torn) {
			t.Fatalf("cut %d: %+v", cut, res)
		}
	}
	bad := bytes.Clone(b)
	bad[len(bad)-5] ^= 0xff
	res, _ = Scan(bytes.NewReader(bad), 1<<20)
	if !res.Corrupt || res.Records != 9 {
		t.Fatalf("corrupt tail: %+v", res)
	}
}

func TestFileName(t *testing.T) {
	for _, v := range []uint64{0, 1, 1 << 40, ^uint64(0)} {
		for _, r := range []uint64{0, 7, ^uint64(0)} {
			base, rec, hasRec, ok := ParseFileName(FileName(v, r))
			if !ok || !hasRec || base != v || rec != r {
				t.Fatalf("%d/%d -> %q -> %d/%d %v %v", v, r, FileName(v, r), base, rec, hasRec, ok)
			}
		}
		base, _, hasRec, ok := ParseFileName(LegacyFileName(v))
		if !ok || hasRec || base != v {
			t.Fatalf("legacy %d -> %q -> %d %v %v", v, LegacyFileName(v), base, hasRec, ok)
		}
	}
	if FileName(12, 3) != "00000000000000000012-00000000000000000003.seg" {
		t.Fatalf("name %q", FileName(12, 3))
	}
	for _, s := range []string{"", "x.seg", "0000.seg", "00000000000000000001.tmp",
		"00000000000000000001_00000000000000000001.seg", "00000000000000000001-0000000000000000000x.seg"} {
		if _, _, _, ok := ParseFileName(s); ok {
			t.Fatalf("%q accepted", s)
		}
	}
}

func FuzzScan(f *testing.F) {
	f.Add(AppendFrame(AppendFrame(nil, 1, []byte("a")), 2, []byte("bb")))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Scan(bytes.NewReader(data), 1<<16)
		if err != nil {
			t.Fatal(err)
		}
		if res.ValidBytes > int64(len(data)) {
			t.Fatalf("valid %d > len %d", res.ValidBytes, len(data))
		}
		// The valid prefix decodes frame by frame to the same count.
		var n int64
		rest := data[:res.ValidBytes]
		for len(rest) > 0 {
			_, _, sz, err := DecodeFrame(rest, 1<<16)
			if err != nil {
				t.Fatalf("valid prefix does not decode: %v", err)
			}
			rest = rest[sz:]
			n++
		}
		if n != res.Records {
			t.Fatalf("records %d, decoded %d", res.Records, n)
		}
	})
}
