// Package segment defines the on-disk record frame of a tenant buffer and
// the naming of its segment files. A frame is
//
//	u32 payload length | u32 CRC32C(timestamp ‖ payload) | i64 timestamp (unix ns) | payload
//
// little-endian. The checksum covers everything after itself, so a torn or
// corrupt tail is detected by the first frame whose checksum or length does
// not hold, and everything from there on is cut off.
package segment // import "github.com/otelcol-logx/otelcol-logx/exporter/tenantbufferexporter/internal/segment"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
	"strings"
)

// HeaderSize is the fixed part of a frame.
const HeaderSize = 16

// MaxPayload is the largest payload a frame holds: its length field is 32
// bits wide.
const MaxPayload = math.MaxUint32

// Ext is the file name extension of a segment.
const Ext = ".seg"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrShort means the bytes end inside a frame: a torn write at the tail.
var ErrShort = errors.New("segment: frame truncated")

// ErrCorrupt means a frame's length or checksum does not hold.
var ErrCorrupt = errors.New("segment: frame corrupt")

// FrameSize is the on-disk size of a frame carrying payloadLen bytes.
func FrameSize(payloadLen int) int { return HeaderSize + payloadLen }

// AppendFrame appends the frame for (ts, payload) to dst.
func AppendFrame(dst []byte, ts int64, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...) // no allocation: the compiler appends zeros
	dst = append(dst, payload...)
	hdr := dst[start : start+HeaderSize]
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload))) //nolint:gosec // G115: the store refuses payloads over MaxRecordBytes, which Options.check keeps within MaxPayload
	binary.LittleEndian.PutUint64(hdr[8:16], uint64(ts))          //nolint:gosec // G115: the timestamp's bits, read back by Timestamp
	crc := crc32.Update(0, castagnoli, hdr[8:16])
	crc = crc32.Update(crc, castagnoli, payload)
	binary.LittleEndian.PutUint32(hdr[4:8], crc)
	return dst
}

// DecodeHeader reads the payload length from a frame header and checks it
// against maxPayload before anything is allocated for it.
func DecodeHeader(hdr []byte, maxPayload int) (payloadLen int, err error) {
	if len(hdr) < HeaderSize {
		return 0, ErrShort
	}
	n := binary.LittleEndian.Uint32(hdr[0:4])
	if int64(n) > int64(maxPayload) { // both widen without loss; a negative maxPayload refuses every frame
		return 0, fmt.Errorf("%w: length %d exceeds %d", ErrCorrupt, n, maxPayload)
	}
	return int(n), nil
}

// DecodeFrame decodes the frame at the start of b. It returns the
// timestamp, the payload (aliasing b) and the frame's total size.
func DecodeFrame(b []byte, maxPayload int) (ts int64, payload []byte, size int, err error) {
	n, err := DecodeHeader(b, maxPayload)
	if err != nil {
		return 0, nil, 0, err
	}
	if len(b) < HeaderSize+n {
		return 0, nil, 0, ErrShort
	}
	payload = b[HeaderSize : HeaderSize+n]
	if !Verify(b[:HeaderSize], payload) {
		return 0, nil, 0, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return int64(binary.LittleEndian.Uint64(b[8:16])), payload, HeaderSize + n, nil //nolint:gosec // G115: the bits AppendFrame wrote from an int64
}

// Verify checks a header's checksum against its payload.
func Verify(hdr, payload []byte) bool {
	crc := crc32.Update(0, castagnoli, hdr[8:16])
	crc = crc32.Update(crc, castagnoli, payload)
	return crc == binary.LittleEndian.Uint32(hdr[4:8])
}

// Timestamp returns the timestamp of a verified header.
func Timestamp(hdr []byte) int64 { return int64(binary.LittleEndian.Uint64(hdr[8:16])) } //nolint:gosec // G115: the bits AppendFrame wrote from an int64

// FileName names the segment whose first frame sits at logical offset base
// of its tenant's stream and is record number firstRecord of that stream
// (records appended before it): "<base>-<firstRecord>.seg", both 20 digits,
// so names sort in offset order. The record number makes a tenant's record
// count recoverable at start-up without reading its older segments.
func FileName(base, firstRecord uint64) string {
	b := make([]byte, 0, 2*20+1+len(Ext))
	b = AppendPadded(b, base)
	b = append(b, '-')
	b = AppendPadded(b, firstRecord)
	return string(append(b, Ext...))
}

// LegacyFileName is the name segments had before they carried their first
// record number: "<base>.seg".
func LegacyFileName(base uint64) string {
	return string(append(AppendPadded(make([]byte, 0, 20+len(Ext)), base), Ext...))
}

// appendPadded appends v in decimal, zero-padded to 20 digits.
func AppendPadded(dst []byte, v uint64) []byte {
	var d [20]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, d[:]...)
}

// ParseFileName returns the base offset of a segment file name and, for a
// name of the current form, its first record number (hasRecord false for a
// legacy "<base>.seg" name).
func ParseFileName(name string) (base, firstRecord uint64, hasRecord, ok bool) {
	s, ok := strings.CutSuffix(name, Ext)
	if !ok {
		return 0, 0, false, false
	}
	switch len(s) {
	case 20:
		v, err := strconv.ParseUint(s, 10, 64)
		return v, 0, false, err == nil
	case 41:
		if s[20] != '-' {
			return 0, 0, false, false
		}
		b, err1 := strconv.ParseUint(s[:20], 10, 64)
		r, err2 := strconv.ParseUint(s[21:], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, false, false
		}
		return b, r, true, true
	}
	return 0, 0, false, false
}
