package journalfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// decoders decompress DATA payloads. The zstd decoder is made on first use
// and kept: files that compress use it for every large value.
type decoders struct {
	zstd   *zstd.Decoder
	maxOut uint64 // the zstd decoder's own bound, for frames without a content size
}

func (d *decoders) close() {
	if d.zstd != nil {
		d.zstd.Close()
		d.zstd = nil
	}
}

// decompress appends the payload, compressed as flags says, to dst. The
// result may not exceed limit bytes: it is checked before allocating where
// the format states the size (LZ4, zstd frames with a content size) and
// while decoding otherwise.
func (d *decoders) decompress(flags uint8, src, dst []byte, limit uint64) ([]byte, error) {
	switch flags {
	case objCompressedZSTD:
		return d.zstdDecode(src, dst, limit)
	case objCompressedLZ4:
		return lz4Decode(src, dst, limit)
	case objCompressedXZ:
		return xzDecode(src, dst, limit)
	}
	return dst, corruptf("data object has compression flags %#x", flags)
}

func tooLarge(size uint64) error {
	return &EntryTooLargeError{Detail: fmt.Sprintf("a field decompresses to %d bytes or more, past what is left of the limit", size)}
}

func (d *decoders) zstdDecode(src, dst []byte, limit uint64) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return dst, corruptf("zstd frame header: %v", err)
	}
	if h.HasFCS && h.FrameContentSize > limit {
		return dst, tooLarge(h.FrameContentSize)
	}
	if d.zstd == nil {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(max(d.maxOut, 1<<20)))
		if err != nil {
			return dst, err
		}
		d.zstd = dec
	}
	start := len(dst)
	if h.HasFCS {
		dst = grow(dst, h.FrameContentSize)
	}
	out, err := d.zstd.DecodeAll(src, dst)
	if err != nil {
		return dst[:start], corruptf("zstd: %v", err)
	}
	if uint64(len(out)-start) > limit {
		return out[:start], tooLarge(uint64(len(out) - start))
	}
	return out, nil
}

// lz4Decode reads journald's LZ4 framing: the decompressed size as a
// little-endian uint64, then one LZ4 block.
func lz4Decode(src, dst []byte, limit uint64) ([]byte, error) {
	if len(src) < 8 {
		return dst, corruptf("lz4 payload of %d bytes has no size", len(src))
	}
	size := binary.LittleEndian.Uint64(src)
	if size > limit {
		return dst, tooLarge(size)
	}
	start := len(dst)
	dst = grow(dst, size)
	out := dst[start : start+int(size)]
	n, err := lz4.UncompressBlock(src[8:], out)
	if err != nil || uint64(n) != size {
		return dst[:start], corruptf("lz4: %d of %d bytes: %v", n, size, err)
	}
	return dst[:start+n], nil
}

func xzDecode(src, dst []byte, limit uint64) ([]byte, error) {
	r, err := xz.NewReader(bytes.NewReader(src))
	if err != nil {
		return dst, corruptf("xz: %v", err)
	}
	w := bytes.NewBuffer(dst)
	start := len(dst)
	n, err := io.Copy(w, io.LimitReader(r, int64(min(limit, 1<<62))+1))
	if err != nil {
		return dst[:start], corruptf("xz: %v", err)
	}
	if uint64(n) > limit {
		return dst[:start], tooLarge(uint64(n))
	}
	return w.Bytes(), nil
}

// grow makes room for n more bytes after len(b).
func grow(b []byte, n uint64) []byte {
	if uint64(cap(b)-len(b)) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+int(n))
	copy(nb, b)
	return nb
}
