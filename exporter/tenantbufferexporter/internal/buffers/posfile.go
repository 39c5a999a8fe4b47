package buffers

import (
	"encoding/binary"
	"hash/crc32"
	"os"

	"golang.org/x/sys/unix"
)

// A position file holds two fixed-size slots. A commit overwrites, in
// place, the slot its sequence number selects (seq % 2) and leaves the other
// one, which holds the previous commit, alone. Loading takes the valid slot
// (magic and CRC-32C match) with the highest sequence. So a write torn by a
// crash can only leave the previous commit in force: the position never
// moves backwards past it (at worst one batch is pushed again, at-least-
// once) and never forwards past data that was not pushed, since a slot is
// written only after its batch was accepted.
//
// Slot layout (little endian): magic "TBP2" | seq u64 | pos u64 | crc32c of
// the 20 bytes before it | 4 bytes zero, 32 bytes in all. A 12-byte file is
// the previous format (pos u64 | crc32c u32) and is still read.
const (
	posSlotSize  = 32
	posFileSize  = 2 * posSlotSize
	posMagic     = "TBP2"
	legacyPosLen = 12
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodePosSlot(dst []byte, seq, pos uint64) {
	copy(dst[0:4], posMagic)
	binary.LittleEndian.PutUint64(dst[4:12], seq)
	binary.LittleEndian.PutUint64(dst[12:20], pos)
	binary.LittleEndian.PutUint32(dst[20:24], crc32.Checksum(dst[:20], castagnoli))
	clear(dst[24:posSlotSize])
}

func decodePosSlot(b []byte) (seq, pos uint64, ok bool) {
	if len(b) < posSlotSize || string(b[0:4]) != posMagic ||
		crc32.Checksum(b[:20], castagnoli) != binary.LittleEndian.Uint32(b[20:24]) {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint64(b[4:12]), binary.LittleEndian.Uint64(b[12:20]), true
}

// decodePosFile returns the position a file holds and the sequence of the
// slot it came from; ok is false when no slot (or legacy record) is valid.
func decodePosFile(b []byte) (pos, seq uint64, ok bool) {
	if len(b) == legacyPosLen {
		if crc32.Checksum(b[:8], castagnoli) != binary.LittleEndian.Uint32(b[8:]) {
			return 0, 0, false
		}
		return binary.LittleEndian.Uint64(b[:8]), 0, true
	}
	if len(b) != posFileSize {
		return 0, 0, false
	}
	for i := range 2 {
		s, p, valid := decodePosSlot(b[i*posSlotSize:])
		if valid && (!ok || s > seq) {
			pos, seq, ok = p, s, true
		}
	}
	return pos, seq, ok
}

// writePosSlot writes slot seq%2 of path in place (creating the file, both
// slots, when it is missing or of another size, e.g. the legacy format) and
// syncs its data when sync is set. created says the file is new: its
// directory entry still needs a directory sync.
func writePosSlot(path string, seq, pos uint64, sync bool) (created bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
		created = true
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	var buf [posFileSize]byte
	off := int64(seq%2) * posSlotSize
	slot := buf[:posSlotSize]
	whole := created
	if !created {
		if fi, err := f.Stat(); err != nil || fi.Size() != posFileSize {
			whole = true // legacy or damaged: rewrite the whole file below
			defer func() {
				if err == nil {
					err = f.Truncate(posFileSize)
				}
			}()
		}
	}
	if whole {
		// Both slots at once: the other one holds the same commit under
		// seq-1 so that a later torn write of this slot leaves it valid.
		encodePosSlot(buf[(seq+1)%2*posSlotSize:], seq-1, pos)
		encodePosSlot(buf[off:], seq, pos)
		slot, off = buf[:], 0
	} else {
		encodePosSlot(slot, seq, pos)
	}
	if _, err = f.WriteAt(slot, off); err != nil {
		return created, err
	}
	if sync {
		err = unix.Fdatasync(int(f.Fd()))
	}
	return created, err
}
