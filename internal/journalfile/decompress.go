package journalfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz/lzma"
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

// xzMaxDict bounds the LZMA2 dictionary an XZ value may ask for: the
// decoder allocates it whole, before any output. systemd's encoder uses
// 1 MiB; 8 MiB is the xz tools' default.
const xzMaxDict = 8 << 20

// xzDecode reads the XZ container as systemd writes it (one stream of one
// block with one LZMA2 filter) and decodes the block's LZMA2 data. The
// container is parsed here rather than by the xz package so that the
// dictionary size is checked before it is allocated, for every block
// decoded: only the first block is, later ones (systemd writes none) are
// ignored, and so are the block check and index (a journal file has no
// integrity of its own either).
func xzDecode(src, dst []byte, limit uint64) ([]byte, error) {
	const streamHeader = 12 // magic, flags, CRC32
	if len(src) < streamHeader+1 || string(src[:6]) != "\xfd7zXZ\x00" {
		return dst, corruptf("xz: no stream header")
	}
	if src[streamHeader] == 0 { // the index right away: no block, no data
		return dst, nil
	}
	hsize := (int(src[streamHeader]) + 1) * 4
	if streamHeader+hsize > len(src) {
		return dst, corruptf("xz: block header past the end")
	}
	hdr := src[streamHeader : streamHeader+hsize]
	flags := hdr[1]
	q := 2
	next := func() (uint64, bool) {
		if q >= len(hdr) {
			return 0, false
		}
		v, n := binary.Uvarint(hdr[q:])
		if n <= 0 {
			return 0, false
		}
		q += n
		return v, true
	}
	if flags&0x40 != 0 { // compressed size
		if _, ok := next(); !ok {
			return dst, corruptf("xz: block header")
		}
	}
	if flags&0x80 != 0 { // uncompressed size: check it before decoding
		u, ok := next()
		if !ok {
			return dst, corruptf("xz: block header")
		}
		if u > limit {
			return dst, tooLarge(u)
		}
	}
	id, ok1 := next()
	psize, ok2 := next()
	if flags&3 != 0 || !ok1 || !ok2 || id != 0x21 || psize != 1 || q >= len(hdr) {
		return dst, corruptf("xz: not a single LZMA2 filter")
	}
	code := hdr[q]
	if code > 40 {
		return dst, corruptf("xz: dictionary size code %d", code)
	}
	dict := uint64(1)<<32 - 1
	if code < 40 {
		dict = uint64(2|code&1) << (code/2 + 11)
	}
	if dict > xzMaxDict {
		return dst, corruptf("xz: dictionary of %d bytes, more than %d", dict, xzMaxDict)
	}
	r, err := lzma.Reader2Config{DictCap: int(max(dict, lzma.MinDictCap))}.NewReader2(bytes.NewReader(src[streamHeader+hsize:]))
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
