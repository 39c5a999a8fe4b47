package push

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// batchOf reads n records of a tenant from a fresh store, as a batch.
func batchOf(t *testing.T, tenant string, n int) *Batch {
	t.Helper()
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	appendRecords(t, st, nil, tenant, 0, n)
	recs, err := st.Read(tenant, "push", n, 1<<20)
	if err != nil || len(recs) != n {
		t.Fatalf("read %d, %v", len(recs), err)
	}
	b := &Batch{Tenant: tenant, Records: recs}
	for _, r := range recs {
		b.Bytes += len(r.Payload)
	}
	return b
}

// The file destination in each sync mode: a temp file a crash left behind
// is replaced, a batch pushed again replaces itself, a tenant directory
// removed behind the destination's back is made again, and no temp file
// stays.
func TestFileDestinationEdgeCases(t *testing.T) {
	for _, mode := range []string{"file", "group", "none"} {
		t.Run(mode, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "base") // made by the first push
			d := &FileDestination{Dir: out, NoSync: mode == "none", GroupSync: mode == "group"}
			b := batchOf(t, "acme/x", 5) // not a safe name: hex directory
			dir := filepath.Join(out, safeName("acme/x"))
			name := fmt.Sprintf("%020d-%020d.ndjson", b.First(), b.Next())
			if err := d.Push(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			if bodies, _ := readDir(t, dir); len(bodies) != 5 || bodies[4] != "acme/x-000004" {
				t.Fatalf("first push: %v", bodies)
			}
			// A temp file left by a crash, then the same batch again.
			if err := os.WriteFile(filepath.Join(dir, tmpPrefix+name), []byte("half a batch"), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := d.Push(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			if bodies, sizes := readDir(t, dir); len(bodies) != 5 || fmt.Sprint(sizes) != "[5]" {
				t.Fatalf("pushed again: %v %v", bodies, sizes)
			}
			// The directory goes away behind the cache.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := d.Push(context.Background(), b); err != nil {
				t.Fatalf("after the directory was removed: %v", err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 || entries[0].Name() != name {
				t.Fatalf("directory holds %v", entries)
			}
		})
	}
}

// Compressed batches decode to the same lines, with pooled compressors
// reused across batches and tenants.
func TestFileDestinationCompressionReuse(t *testing.T) {
	for _, c := range []string{"gzip", "zstd"} {
		out := t.TempDir()
		d := &FileDestination{Dir: out, Compression: c, NoSync: true}
		for i := range 3 {
			tenant := fmt.Sprint("t", i)
			if err := d.Push(context.Background(), batchOf(t, tenant, 4+i)); err != nil {
				t.Fatal(err)
			}
			bodies, _ := readDir(t, filepath.Join(out, tenant))
			if len(bodies) != 4+i || !strings.HasPrefix(bodies[0], tenant+"-") {
				t.Fatalf("%s %s: %v", c, tenant, bodies)
			}
		}
	}
}

// Tenant names as long as the exporter admits (256 bytes by default, more
// if configured) get a directory name that fits a file name, in the file
// destination and in the dead-letter area (whose note keeps the name).
func TestLongTenantNamesFitAFileName(t *testing.T) {
	for _, n := range []int{100, 101, 255, 256, 1000} {
		tenant := strings.Repeat("t", n-1) + "/"
		out := t.TempDir()
		d := &FileDestination{Dir: out, NoSync: true}
		b := batchOf(t, tenant, 2)
		if err := d.Push(context.Background(), b); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if len(safeName(tenant)) > 202 {
			t.Fatalf("%d bytes: directory name of %d", n, len(safeName(tenant)))
		}
		dl, err := OpenDeadLetters(DeadLetterOptions{Dir: t.TempDir(), NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := dl.Park(b, &PermanentError{errors.New("http 400")}); err != nil {
			t.Fatalf("%d bytes: park: %v", n, err)
		}
		note, err := os.ReadFile(filepath.Join(dl.o.Dir, safeName(tenant), fmt.Sprintf("%020d-%020d.reason", b.First(), b.Next())))
		if err != nil || !strings.Contains(string(note), fmt.Sprintf("tenant: %q", tenant)) {
			t.Fatalf("%d bytes: note %q %v", n, note, err)
		}
	}
	if safeName(strings.Repeat("a", 300)) == safeName(strings.Repeat("a", 301)) {
		t.Fatal("two long names share a directory")
	}
}

// Two stores (two tenant-tier nodes, one after the other) push the same
// tenant to one file root: both number its records from 0, so their
// batches have the same offset range, and neither may replace the other's.
func TestFileDestinationOriginsNeverOverwriteEachOther(t *testing.T) {
	out := t.TempDir()
	first, second := batchOf(t, "acme", 5), batchOf(t, "acme", 5)
	if first.First() != second.First() || first.Next() != second.Next() {
		t.Fatalf("the two stores' batches should share their offsets: %d-%d, %d-%d", first.First(), first.Next(), second.First(), second.Next())
	}
	for i, b := range []*Batch{first, second} {
		d := &FileDestination{Dir: out, Origin: fmt.Sprintf("%016x", i+1), NoSync: true}
		if err := d.Push(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	bodies, sizes := readDir(t, filepath.Join(out, safeName("acme")))
	if len(bodies) != 10 || fmt.Sprint(sizes) != "[5 5]" {
		t.Fatalf("want both batches kept, got %d records in files of %v", len(bodies), sizes)
	}
}
