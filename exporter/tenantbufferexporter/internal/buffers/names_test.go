package buffers

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"
)

// awkwardNames are tenant names whose directory names used to be long,
// hex-encoded or unsafe; 127 bytes and more made the older form pass the
// 255 bytes a file name may have.
var awkwardNames = []string{
	strings.Repeat("a", 127),
	strings.Repeat("b", 200),
	strings.Repeat("ü", 128), // 256 bytes
	strings.Repeat("c", 4096),
	"../../etc", ".hidden", "with space", "x-41", "n-x", "h-" + strings.Repeat("0", 32),
}

// Every name gets a buffer, in one Append with ordinary tenants, and comes
// back after a restart; no directory name grows with the tenant's name.
func TestTenantNamesOfAnyLengthStoredAndRecovered(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(dir)
	o.MaxBuffers = 100
	s := openStore(t, o)
	batch := []TenantRecords{{Tenant: "acme", Payloads: payloads("acme", 3, 50)}}
	for i, n := range awkwardNames {
		batch = append(batch, TenantRecords{Tenant: n, Payloads: payloads(fmt.Sprint("n", i), 3, 50)})
	}
	batch = append(batch, TenantRecords{Tenant: "globex", Payloads: payloads("globex", 3, 50)})
	res, err := s.Append(batch)
	require.NoError(t, err)
	require.Equal(t, 3*len(batch), res.Accepted)
	require.Zero(t, res.RefusedTotal())

	entries, err := os.ReadDir(filepath.Join(dir, "t"))
	require.NoError(t, err)
	require.Len(t, entries, len(batch))
	for _, e := range entries {
		require.Len(t, e.Name(), 34, "directory %q", e.Name())
	}
	require.NoError(t, s.Close())

	s2 := openStore(t, o)
	want := []string{"acme", "globex"}
	want = append(want, awkwardNames...)
	got := s2.Tenants()
	slices.Sort(want)
	slices.Sort(got)
	require.Equal(t, want, got)
	for i, n := range awkwardNames {
		recs := readAll(t, s2, n, "a")
		require.Len(t, recs, 3, "tenant %d", i)
		require.True(t, strings.HasPrefix(string(recs[0].Payload), fmt.Sprintf("n%d-", i)))
	}
}

// blockDir puts a file where tenant's directory would go.
func blockDir(t *testing.T, root, tenant string) string {
	t.Helper()
	p := filepath.Join(root, "t", DirName(tenant))
	require.NoError(t, os.WriteFile(p, []byte("in the way"), 0o640))
	return p
}

// A tenant whose directory cannot be made is refused alone (tenant_dir),
// the call succeeds for the others, and the tenant holds no slot under the
// buffer cap: before, it stayed in the table as a buffer without a
// directory, and the call failed after the others were written.
func TestTenantDirFailureRefusedAloneAndHoldsNoSlot(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(dir)
	o.MaxBuffers = 2
	s := openStore(t, o)
	blockDir(t, dir, "blocked")
	res, err := s.Append([]TenantRecords{
		{Tenant: "blocked", Payloads: payloads("x", 4, 50)},
		{Tenant: "a", Payloads: payloads("a", 3, 50)},
		{Tenant: "b", Payloads: payloads("b", 3, 50)},
	})
	require.NoError(t, err)
	require.Equal(t, 6, res.Accepted)
	require.Equal(t, 4, res.Refused[ReasonTenantDir])
	require.Zero(t, res.Refused[ReasonMaxBuffers])
	require.ErrorContains(t, res.Failure, "blocked")
	st := s.Stats()
	require.EqualValues(t, 2, st.Buffers)
	require.EqualValues(t, 4, st.Refused["tenant_dir"])
	_, ok := s.TenantBytes("blocked")
	require.False(t, ok)
	require.Len(t, readAll(t, s, "a", "a"), 3)
	require.Len(t, readAll(t, s, "b", "a"), 3)
}

// A tenant whose records are all refused by a byte guard gets no buffer
// either: it would otherwise hold a slot until the idle sweep.
func TestTenantRefusedWholeHoldsNoSlot(t *testing.T) {
	o := testOptions(t.TempDir())
	o.MaxBuffers = 1
	o.MaxRecordBytes = 100
	s := openStore(t, o)
	res := mustAppend(t, s, "huge", [][]byte{make([]byte, 101)})
	require.Equal(t, 1, res.Refused[ReasonRecordTooLarge])
	require.EqualValues(t, 0, s.Stats().Buffers)
	res = mustAppend(t, s, "fine", payloads("f", 2, 50))
	require.Equal(t, 2, res.Accepted)
}

// A directory of the tenant's name that names another tenant (a hash
// collision, or a torn name file) is never shared: the tenant is refused,
// the directory left as it was.
func TestTenantDirOfAnotherTenantNeverShared(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(dir))
	p := filepath.Join(dir, "t", DirName("victim"))
	require.NoError(t, os.Mkdir(p, 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(p, nameFile), []byte("someone else"), 0o640))
	require.NoError(t, os.WriteFile(filepath.Join(p, segment.FileName(0, 0)), []byte("theirs"), 0o640))
	res := mustAppend(t, s, "victim", payloads("v", 2, 50))
	require.Equal(t, 2, res.Refused[ReasonTenantDir])
	b, err := os.ReadFile(filepath.Join(p, segment.FileName(0, 0)))
	require.NoError(t, err)
	require.Equal(t, "theirs", string(b))
	n, err := os.ReadFile(filepath.Join(p, nameFile))
	require.NoError(t, err)
	require.Equal(t, "someone else", string(n))
}

// toLegacyLayout renames a tenant's directory to the form stores had
// before hashed names, without a name file.
func toLegacyLayout(t *testing.T, root, tenant, legacy string) {
	t.Helper()
	from := filepath.Join(root, "t", DirName(tenant))
	require.NoError(t, os.Remove(filepath.Join(from, nameFile)))
	require.NoError(t, os.Rename(from, filepath.Join(root, "t", legacy)))
}

// Stores written with the older directory names are read as they are: the
// tenants come back with their records and positions, appends, commits and
// deletion use the directory found, and nothing is renamed.
func TestLegacyDirectoriesReadInPlace(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(dir)
	s := openStore(t, o)
	odd := "with space/and slash"
	mustAppend(t, s, "acme", payloads("acme", 5, 50))
	mustAppend(t, s, odd, payloads("odd", 5, 50))
	require.Len(t, readAll(t, s, "acme", "a"), 5)
	require.NoError(t, s.Close())
	toLegacyLayout(t, dir, "acme", "n-acme")
	oddLegacy := "x-" + hex.EncodeToString([]byte(odd))
	toLegacyLayout(t, dir, odd, oddLegacy)

	s2 := openStore(t, o)
	require.ElementsMatch(t, []string{"acme", odd}, s2.Tenants())
	require.Empty(t, readAll(t, s2, "acme", "a"), "consumer a had read acme to the end")
	require.Len(t, readAll(t, s2, "acme", "b"), 5)
	mustAppend(t, s2, "acme", payloads("more", 2, 50))
	require.Len(t, readAll(t, s2, "acme", "a"), 2)
	require.Len(t, readAll(t, s2, odd, "b"), 5)
	names := func() []string {
		entries, err := os.ReadDir(filepath.Join(dir, "t"))
		require.NoError(t, err)
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	require.ElementsMatch(t, []string{"n-acme", oddLegacy}, names())
	require.NoError(t, s2.DeleteTenant(odd))
	require.ElementsMatch(t, []string{"n-acme"}, names())
	require.NoError(t, s2.Close())

	s3 := openStore(t, o)
	require.Equal(t, []string{"acme"}, s3.Tenants())
	recs := readAll(t, s3, "acme", "b")
	require.Len(t, recs, 2, "b's position survives in the older directory")
	require.True(t, strings.HasPrefix(string(recs[0].Payload), "more-"))
	// A buffer that comes back gets the current form.
	mustAppend(t, s3, odd, payloads("again", 1, 50))
	require.ElementsMatch(t, []string{"n-acme", DirName(odd)}, names())
}

// One tenant in both forms (the previous version ran in between): the
// directory of the current form is the buffer, the other is left on disk
// untouched and counted.
func TestTenantInBothFormsKeepsCurrent(t *testing.T) {
	dir, older := t.TempDir(), t.TempDir()
	o := testOptions(dir)
	s := openStore(t, o)
	mustAppend(t, s, "acme", payloads("new", 2, 50))
	require.NoError(t, s.Close())
	s = openStore(t, testOptions(older))
	mustAppend(t, s, "acme", payloads("old", 4, 50))
	require.NoError(t, s.Close())
	toLegacyLayout(t, older, "acme", "n-acme")
	require.NoError(t, os.Rename(filepath.Join(older, "t", "n-acme"), filepath.Join(dir, "t", "n-acme")))

	s2 := openStore(t, o)
	require.EqualValues(t, 1, s2.Stats().UnreadableDirs)
	recs := readAll(t, s2, "acme", "a")
	require.Len(t, recs, 2)
	require.True(t, strings.HasPrefix(string(recs[0].Payload), "new-"))
	_, err := os.Stat(filepath.Join(dir, "t", "n-acme", segment.FileName(0, 0)))
	require.NoError(t, err, "the other directory is left on disk")
}

// A directory of the current form without a valid name file was being
// made when the process stopped: empty, it is removed; holding records,
// it is left alone and counted.
func TestHashedDirWithoutNameAtStartup(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(dir)
	s := openStore(t, o)
	mustAppend(t, s, "kept", payloads("k", 3, 50))
	require.NoError(t, s.Close())
	empty := filepath.Join(dir, "t", DirName("interrupted"))
	require.NoError(t, os.Mkdir(empty, 0o750))
	withData := filepath.Join(dir, "t", DirName("kept"))
	require.NoError(t, os.WriteFile(filepath.Join(withData, nameFile), []byte("kep"), 0o640)) // torn

	s2 := openStore(t, o)
	require.Empty(t, s2.Tenants())
	require.EqualValues(t, 1, s2.Stats().UnreadableDirs)
	_, err := os.Stat(empty)
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(filepath.Join(withData, segment.FileName(0, 0)))
	require.NoError(t, err)
	// The tenant whose directory it is cannot reuse it, and is told so.
	res := mustAppend(t, s2, "kept", payloads("k", 1, 50))
	require.Equal(t, 1, res.Refused[ReasonTenantDir])
}

// A segment that cannot be opened refuses that tenant's records only
// (write_error); the records written before it stay accepted, the other
// tenants' go on, and the tenant writes again once the file can be made.
func TestWriteErrorRefusedAlone(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(dir)
	o.Consumers = []string{"a"}
	s := openStore(t, o)
	frame := int64(segment.FrameSize(50))
	perSeg := o.SegmentBytes / frame
	mustAppend(t, s, "acme", payloads("first", int(perSeg), 50))
	// The next segment's name is taken by a directory: opening it fails.
	next := filepath.Join(dir, "t", DirName("acme"), segment.FileName(uint64(perSeg*frame), uint64(perSeg)))
	require.NoError(t, os.Mkdir(next, 0o750))

	res, err := s.Append([]TenantRecords{
		{Tenant: "acme", Payloads: payloads("lost", 3, 50)},
		{Tenant: "globex", Payloads: payloads("g", 3, 50)},
	})
	require.NoError(t, err)
	require.Equal(t, 3, res.Accepted)
	require.Equal(t, 3, res.Refused[ReasonWriteError])
	require.Error(t, res.Failure)
	require.Len(t, readAll(t, s, "globex", "a"), 3)

	require.NoError(t, os.Remove(next))
	res = mustAppend(t, s, "acme", payloads("later", 2, 50))
	require.Equal(t, 2, res.Accepted)
	recs := readAll(t, s, "acme", "a")
	require.Len(t, recs, int(perSeg)+2)
	require.True(t, strings.HasPrefix(string(recs[perSeg].Payload), "later-"))
}
