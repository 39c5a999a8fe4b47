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
	"strconv"
	"strings"
)

// HeaderSize is the fixed part of a frame.
const HeaderSize = 16

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
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint64(hdr[8:16], uint64(ts))
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
	if uint64(n) > uint64(maxPayload) {
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
	return int64(binary.LittleEndian.Uint64(b[8:16])), payload, HeaderSize + n, nil
}

// Verify checks a header's checksum against its payload.
func Verify(hdr, payload []byte) bool {
	crc := crc32.Update(0, castagnoli, hdr[8:16])
	crc = crc32.Update(crc, castagnoli, payload)
	return crc == binary.LittleEndian.Uint32(hdr[4:8])
}

// Timestamp returns the timestamp of a verified header.
func Timestamp(hdr []byte) int64 { return int64(binary.LittleEndian.Uint64(hdr[8:16])) }

// FileName names the segment whose first frame sits at logical offset base
// of its tenant's stream; names sort in offset order.
func FileName(base uint64) string { return fmt.Sprintf("%020d%s", base, Ext) }

// ParseFileName returns the base offset of a segment file name.
func ParseFileName(name string) (uint64, bool) {
	s, ok := strings.CutSuffix(name, Ext)
	if !ok || len(s) != 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}
