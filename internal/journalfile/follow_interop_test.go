//go:build interop

package journalfile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func messages(start, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = entryExport(start+i, kv{"MESSAGE", []byte(fmt.Sprintf("m-%d", start+i))})
	}
	return out
}

func messageOf(t *testing.T, e *Entry) string {
	t.Helper()
	for _, f := range e.Fields {
		if name, value, ok := SplitField(f); ok && string(name) == "MESSAGE" {
			return string(value)
		}
	}
	t.Fatalf("entry %d has no MESSAGE", e.Seqnum)
	return ""
}

// TestFileRefreshSeesAppends: after the end, Refresh picks up what a
// writer appended, and the result equals journalctl's export after the
// last cursor.
func TestFileRefreshSeesAppends(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.journal")
	writeJournal(t, p, nil, messages(0, 5)...)
	f, err := Open(p, Options{})
	require.NoError(t, err)
	defer f.Close()
	first := readAll(t, f)
	require.Len(t, first, 5)

	writeJournal(t, p, nil, messages(5, 300)...)
	var e Entry
	require.ErrorIs(t, f.Next(&e), io.EOF, "nothing new before Refresh")
	require.NoError(t, f.Refresh())
	got := readAll(t, f)
	requireSameAsExport(t, got, journalctlExport(t, p, "--after-cursor="+first[4].CursorString()))
}

// TestFollowWhileWriting: a writer appends while the reader follows; the
// reader sees every entry once, in order, and no error from half-written
// state.
func TestFollowWhileWriting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.journal")
	writeJournal(t, p, nil, messages(0, 1)...)
	const batches, per = 8, 250
	done := make(chan error, 1)
	go func() {
		for b := range batches {
			if err := appendJournal(p, messages(1+b*per, per)...); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	f, err := Open(p, Options{})
	require.NoError(t, err)
	defer f.Close()
	var e Entry
	want := 1 + batches*per
	n := 0
	writerDone := false
	deadline := time.Now().Add(2 * time.Minute)
	for n < want {
		require.True(t, time.Now().Before(deadline), "read %d of %d entries", n, want)
		err := f.Next(&e)
		if err == io.EOF {
			if !writerDone {
				select {
				case err := <-done:
					require.NoError(t, err)
					writerDone = true
				default:
				}
			}
			require.NoError(t, f.Refresh())
			if writerDone && f.Remaining() == 0 {
				break
			}
			continue
		}
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("m-%d", n), messageOf(t, &e))
		require.EqualValues(t, n+1, e.Seqnum)
		n++
	}
	require.Equal(t, want, n)
}

// appendJournal is writeJournal for goroutines other than the test's.
func appendJournal(path string, entries ...[]byte) error {
	return writeJournalErr(path, nil, entries...)
}

// TestDirFollowsRotation: the directory reader follows a file, notices
// (by inotify) that it was archived and renamed and a new one started,
// reads the rest of the old one and goes on with the new one; the old one
// is read once only and then closed.
func TestDirFollowsRotation(t *testing.T) {
	dir := t.TempDir()
	active := filepath.Join(dir, "system.journal")
	writeJournal(t, active, nil, messages(0, 10)...)

	d, err := OpenDir(dir, Options{})
	require.NoError(t, err)
	defer d.Close()
	require.Empty(t, d.FileErrors())
	ctx := context.Background()
	require.NoError(t, d.Wait(ctx, time.Minute)) // sets up the watch
	got := readDir(t, d)
	require.Len(t, got, 10)

	// More entries, then rotation the way journald does it: the header
	// says archived, the file gets its archive name, a new file starts.
	writeJournal(t, active, nil, messages(10, 5)...)
	markArchived(t, active)
	require.NoError(t, os.Rename(active, filepath.Join(dir, "system@0000-0000.journal")))
	writeJournal(t, active, nil, messages(15, 7)...)

	start := time.Now()
	require.NoError(t, d.Wait(ctx, time.Minute))
	require.Less(t, time.Since(start), 30*time.Second, "inotify must wake the wait, not its timeout")
	require.NoError(t, d.Refresh())
	got = append(got, readDir(t, d)...)
	for i, m := range got {
		require.Equal(t, fmt.Sprintf("m-%d", i), m)
	}
	require.Len(t, got, 22)
	require.NoError(t, d.Refresh())
	require.Equal(t, []string{active}, d.Files(), "the archived file, read to its end, is closed")
	require.Empty(t, readDir(t, d), "and not read again under its new name")
	require.Empty(t, d.FileErrors())
}

// TestDirWaitIdle: on an idle directory Wait returns at its timeout, and a
// cancelled context ends it at once.
func TestDirWaitIdle(t *testing.T) {
	dir := t.TempDir()
	writeJournal(t, filepath.Join(dir, "system.journal"), nil, messages(0, 1)...)
	d, err := OpenDir(dir, Options{})
	require.NoError(t, err)
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, d.Wait(ctx, time.Minute))
	start := time.Now()
	require.NoError(t, d.Wait(ctx, 50*time.Millisecond))
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	cancel()
	require.ErrorIs(t, d.Wait(ctx, time.Minute), context.Canceled)
}

func readDir(t *testing.T, d *Dir) []string {
	t.Helper()
	var out []string
	var e Entry
	for range 10000 {
		err := d.Next(&e)
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, messageOf(t, &e))
	}
	t.Fatal("no end")
	return nil
}

// markArchived sets the header state journald sets when it rotates a file.
func markArchived(t *testing.T, p string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{byte(StateArchived)}, hdrState)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// TestRefreshAfterGrowth: the writer grows the file past what was mapped
// (journald preallocates 8 MiB at a time); Refresh maps it again and the
// new entries, whose objects lie past the old end, read like journalctl's.
func TestRefreshAfterGrowth(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.journal")
	writeJournal(t, p, nil, messages(0, 1)...)
	f, err := Open(p, Options{})
	require.NoError(t, err)
	defer f.Close()
	first := readAll(t, f)
	st0, err := os.Stat(p)
	require.NoError(t, err)

	// Values that do not compress, unique, so nothing is shared.
	r := rand.New(rand.NewSource(1))
	var more [][]byte
	for i := range 3000 {
		v := make([]byte, 4096)
		_, _ = r.Read(v)
		more = append(more, entryExport(1+i, kv{"MESSAGE", []byte(fmt.Sprintf("m-%d", 1+i))}, kv{"NOISE", v}))
	}
	writeJournal(t, p, nil, more...)
	st1, err := os.Stat(p)
	require.NoError(t, err)
	require.Greater(t, st1.Size(), st0.Size()+4<<20, "the file must have grown for the test to mean something")

	require.NoError(t, f.Refresh())
	got := readAll(t, f)
	require.Len(t, got, 3000)
	requireSameAsExport(t, got, journalctlExport(t, p, "--after-cursor="+first[0].CursorString()))
}

// TestDirMatchesJournalctlDirectory: two files whose entries interleave
// (different seqnum ids, as from two writers) merge as journalctl
// --directory merges them.
func TestDirMatchesJournalctlDirectory(t *testing.T) {
	dir := t.TempDir()
	var a, b [][]byte
	for i := range 40 {
		e := entryExport(i, kv{"MESSAGE", []byte(fmt.Sprintf("m-%d", i))})
		if i%3 == 0 {
			b = append(b, e)
		} else {
			a = append(a, e)
		}
	}
	writeJournal(t, filepath.Join(dir, "a.journal"), nil, a...)
	writeJournal(t, filepath.Join(dir, "b.journal"), nil, b...)

	d, err := OpenDir(dir, Options{})
	require.NoError(t, err)
	defer d.Close()
	var got []Entry
	var e Entry
	for {
		err := d.Next(&e)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got = append(got, cloneEntry(&e))
	}
	out, err := exec.Command("journalctl", "--directory="+dir, "--output=export").Output()
	require.NoError(t, err)
	requireSameAsExport(t, got, parseExport(t, bytes.NewReader(out)))
}
