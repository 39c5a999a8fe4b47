package journalreceiver

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// benchEntry is a typical entry of a service writing to stdout, as
// journalctl --output=export prints it (about 1 KB, 27 fields).
func benchEntry(i int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "__CURSOR=s=2a24345ca7db4cedafbaaf79e30250e6;i=%x;b=0123456789abcdef0123456789abcdef;m=3e8;t=60a24181e4000;x=43ed5ddb71b24878\n", i)
	fmt.Fprintf(&b, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n", 1700000000000000+i, 1000+i)
	b.WriteString("_BOOT_ID=0123456789abcdef0123456789abcdef\n_TRANSPORT=stdout\nPRIORITY=6\nSYSLOG_FACILITY=3\n")
	b.WriteString("SYSLOG_IDENTIFIER=nginx\n_PID=1234\n_UID=33\n_GID=33\n_COMM=nginx\n_EXE=/usr/sbin/nginx\n")
	b.WriteString("_CMDLINE=nginx: worker process\n_CAP_EFFECTIVE=0\n_SELINUX_CONTEXT=unconfined\n")
	b.WriteString("_SYSTEMD_CGROUP=/system.slice/nginx.service\n_SYSTEMD_UNIT=nginx.service\n_SYSTEMD_SLICE=system.slice\n")
	b.WriteString("_SYSTEMD_INVOCATION_ID=4f9b1c0e8f6d4c1fa0c6b5e1d2c3b4a5\n_MACHINE_ID=fedcba9876543210fedcba9876543210\n")
	b.WriteString("_HOSTNAME=web-01.example.net\n_STREAM_ID=5e3b0c2f9d8a4e7b8c6d5e4f3a2b1c0d\n")
	fmt.Fprintf(&b, "MESSAGE=192.0.2.%d - - [22/Nov/2026:04:15:38 +0000] \"GET /api/v1/items?page=%d HTTP/1.1\" 200 5123 \"-\" \"curl/8.5.0\"\n", i%256, i)
	b.Write(exportField("BINARY_FIELD", []byte("line one\nline two"), true))
	b.WriteByte('\n')
	return b.Bytes()
}

func benchStream(entries int) []byte {
	var all bytes.Buffer
	for i := range entries {
		all.Write(benchEntry(i))
	}
	return all.Bytes()
}

// BenchmarkExportReader measures decoding; one op is one entry.
func BenchmarkExportReader(b *testing.B) {
	const perStream = 1000
	stream := benchStream(perStream)
	b.SetBytes(int64(len(stream) / perStream))
	b.ReportAllocs()
	r := bytes.NewReader(stream)
	d := NewExportReader(r, ExportLimits{MaxEntryBytes: 1 << 20, MaxFields: 4096})
	for b.Loop() {
		if _, err := d.Next(); err != nil {
			if err != io.EOF {
				b.Fatal(err)
			}
			r.Reset(stream)
			d = NewExportReader(r, ExportLimits{MaxEntryBytes: 1 << 20, MaxFields: 4096})
		}
	}
}

// BenchmarkConvert measures turning a decoded entry into a log record with
// all its fields as attributes, amortised over batches of 1000.
func BenchmarkConvert(b *testing.B) {
	const batch = 1000
	d := NewExportReader(bytes.NewReader(benchStream(batch)), ExportLimits{})
	entries := make([]*Entry, 0, batch)
	for {
		e, err := d.Next()
		if err != nil {
			break
		}
		entries = append(entries, e)
	}
	cfg := createDefaultConfig().(*Config)
	conv := newConverter(cfg)
	b.ReportAllocs()
	now := pcommon.Timestamp(1)
	bb := newBatchBuilder()
	i := 0
	for b.Loop() {
		if i == batch {
			bb, i = newBatchBuilder(), 0
		}
		conv.append(bb, entries[i], now)
		i++
	}
}
