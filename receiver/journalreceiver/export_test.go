package journalreceiver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exportField encodes one field; binary form when binaryForm is set.
func exportField(name string, value []byte, binaryForm bool) []byte {
	if !binaryForm {
		return []byte(name + "=" + string(value) + "\n")
	}
	var b bytes.Buffer
	b.WriteString(name + "\n")
	_ = binary.Write(&b, binary.LittleEndian, uint64(len(value)))
	b.Write(value)
	b.WriteByte('\n')
	return b.Bytes()
}

func readAll(t *testing.T, in []byte, limits ExportLimits) ([]*Entry, error) {
	t.Helper()
	d := NewExportReader(bytes.NewReader(in), limits)
	var out []*Entry
	for {
		e, err := d.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, e)
	}
}

func TestExportTextAndBinaryFields(t *testing.T) {
	var in []byte
	in = append(in, "__CURSOR=s=1;i=1\nMESSAGE=hello world\n"...)
	in = append(in, exportField("BIN", []byte("a\nb\x00\xff"), true)...)
	in = append(in, "EMPTY=\n"...)
	in = append(in, exportField("EMPTYBIN", nil, true)...)
	in = append(in, "EQ=a=b\n\n"...)
	in = append(in, "MESSAGE=second\n\n"...)

	entries, err := readAll(t, in, ExportLimits{})
	require.NoError(t, err)
	require.Len(t, entries, 2)
	e := entries[0]
	require.Equal(t, 6, e.Len())
	v, ok := e.Get("BIN")
	require.True(t, ok)
	assert.Equal(t, "a\nb\x00\xff", v)
	v, _ = e.Get("MESSAGE")
	assert.Equal(t, "hello world", v)
	v, ok = e.Get("EMPTY")
	assert.True(t, ok)
	assert.Empty(t, v)
	v, ok = e.Get("EMPTYBIN")
	assert.True(t, ok)
	assert.Empty(t, v)
	v, _ = e.Get("EQ")
	assert.Equal(t, "a=b", v, "only the first '=' separates name and value")
	name, _ := e.Field(0)
	assert.Equal(t, "__CURSOR", string(name), "fields keep their order")
	assert.False(t, e.Truncated)
	v, _ = entries[1].Get("MESSAGE")
	assert.Equal(t, "second", v)
}

func TestExportLongTextLineSpansBuffer(t *testing.T) {
	long := strings.Repeat("x", 200_000) // longer than the 64 KiB read buffer
	entries, err := readAll(t, []byte("MESSAGE="+long+"\nA=b\n\n"), ExportLimits{})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	v, _ := entries[0].Get("MESSAGE")
	assert.Equal(t, long, v)
	v, _ = entries[0].Get("A")
	assert.Equal(t, "b", v)
}

func TestExportLimitsTruncate(t *testing.T) {
	big := bytes.Repeat([]byte{'y'}, 10_000)
	var in []byte
	in = append(in, "__CURSOR=c1\n"...)
	in = append(in, exportField("MESSAGE", big, true)...)
	in = append(in, "MESSAGE2="+string(big)+"\n"...)
	in = append(in, "AFTER=1\n\nNEXT=ok\n\n"...)
	entries, err := readAll(t, in, ExportLimits{MaxEntryBytes: 1024})
	require.NoError(t, err)
	require.Len(t, entries, 2, "the stream stays in sync after cut values")
	e := entries[0]
	assert.True(t, e.Truncated)
	assert.LessOrEqual(t, e.Size(), 1024)
	v, _ := e.Get("__CURSOR")
	assert.Equal(t, "c1", v)
	v, _ = e.Get("MESSAGE")
	assert.Len(t, v, 1024-len("__CURSORc1MESSAGE"))
	v, _ = entries[1].Get("NEXT")
	assert.Equal(t, "ok", v)
	assert.False(t, entries[1].Truncated)

	entries, err = readAll(t, []byte("A=1\nB=2\nC=3\n\n"), ExportLimits{MaxFields: 2})
	require.NoError(t, err)
	assert.Equal(t, 2, entries[0].Len())
	assert.True(t, entries[0].Truncated)
}

func TestExportMalformed(t *testing.T) {
	for name, tc := range map[string]struct {
		in     string
		reason string
		eof    bool
	}{
		"bad name":           {in: "MES SAGE=x\n\n", reason: "bad_field_name"},
		"empty name":         {in: "=x\n\n", reason: "bad_field_name"},
		"double blank line":  {in: "A=1\n\n\n", reason: "empty_entry"},
		"name too long":      {in: strings.Repeat("A", 300) + "=x\n\n", reason: "bad_field_name"},
		"binary no newline":  {in: "BIN\n\x01\x00\x00\x00\x00\x00\x00\x00xy\n", reason: "bad_binary_terminator"},
		"binary huge length": {in: "BIN\n\xff\xff\xff\xff\xff\xff\xff\xff", reason: "bad_binary_length"},
		"cut in text":        {in: "A=1\nB=2", eof: true},
		"cut in entry":       {in: "A=1\n", eof: true},
		"cut in length":      {in: "BIN\n\x01\x00", eof: true},
		"cut in binary":      {in: "BIN\n\x05\x00\x00\x00\x00\x00\x00\x00ab", eof: true},
		"long binary cut":    {in: "BIN\n\x00\x00\x00\x00\x01\x00\x00\x00ab", eof: true},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readAll(t, []byte(tc.in), ExportLimits{MaxEntryBytes: 1024})
			require.Error(t, err)
			if tc.eof {
				require.ErrorIs(t, err, io.ErrUnexpectedEOF)
				return
			}
			var ee *ExportError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, tc.reason, ee.Reason)
			assert.Contains(t, err.Error(), "journal export format")
		})
	}
}

func TestExportEmptyStream(t *testing.T) {
	entries, err := readAll(t, nil, ExportLimits{})
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// FuzzExportReader feeds arbitrary bytes: the reader must end with an error
// or io.EOF, never panic, hang or exceed its limits.
func FuzzExportReader(f *testing.F) {
	f.Add([]byte("__CURSOR=s=1\nMESSAGE=hi\nPRIORITY=3\n\n"))
	f.Add(append(exportField("BIN", []byte("x\ny\x00"), true), '\n'))
	f.Add([]byte("A=1\n\n\nB=2\n\n"))
	f.Add([]byte("BIN\n\xff\xff\xff\xff\xff\xff\xff\x7f"))
	f.Add([]byte("BIN\n\x03\x00\x00\x00\x00\x00\x00\x00abc\nC=d\n\n"))
	f.Add([]byte("=\n\n"))
	f.Add([]byte(strings.Repeat("M", 70_000)))
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 4096
		d := NewExportReader(bytes.NewReader(in), ExportLimits{MaxEntryBytes: limit, MaxFields: 64})
		for range len(in) + 1 { // each entry consumes at least one byte
			e, err := d.Next()
			if err != nil {
				var ee *ExportError
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &ee) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				return
			}
			if e.Size() > limit || e.Len() > 64 || e.Len() == 0 {
				t.Fatalf("entry beyond limits: %d bytes, %d fields", e.Size(), e.Len())
			}
			for i := range e.Len() {
				name, _ := e.Field(i)
				if _, ok := checkFieldName([]byte(name)); !ok {
					t.Fatalf("invalid field name %q accepted", name)
				}
			}
		}
		t.Fatal("reader did not finish")
	})
}
