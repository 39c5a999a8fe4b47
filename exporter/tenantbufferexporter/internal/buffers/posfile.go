package buffers

import (
	"encoding/binary"
	"hash/crc32"
	"io"
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
// Slot layout (little endian), 32 bytes: magic "TBP3" | seq u64 | pos u64 |
// rec u64 | crc32c of the 28 bytes before it. rec is the record number at
// pos (records of the tenant's stream before it), so that the consumer's
// lag in records is known after a restart without reading the segments.
// Slots of the previous layout ("TBP2" | seq | pos | crc32c of 20 bytes |
// 4 bytes zero) and the 12-byte file before it (pos u64 | crc32c u32) are
// still read; they carry no record number.
const (
	posSlotSize  = 32
	posFileSize  = 2 * posSlotSize
	posMagic     = "TBP3"
	posMagicV2   = "TBP2"
	legacyPosLen = 12
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// posRecord is what a position file holds.
type posRecord struct {
	seq, pos uint64
	rec      uint64 // record number at pos; valid when hasRec
	hasRec   bool
}

func encodePosSlot(dst []byte, seq, pos, rec uint64) {
	copy(dst[0:4], posMagic)
	binary.LittleEndian.PutUint64(dst[4:12], seq)
	binary.LittleEndian.PutUint64(dst[12:20], pos)
	binary.LittleEndian.PutUint64(dst[20:28], rec)
	binary.LittleEndian.PutUint32(dst[28:32], crc32.Checksum(dst[:28], castagnoli))
}

func decodePosSlot(b []byte) (posRecord, bool) {
	if len(b) < posSlotSize {
		return posRecord{}, false
	}
	switch string(b[0:4]) {
	case posMagic:
		if crc32.Checksum(b[:28], castagnoli) != binary.LittleEndian.Uint32(b[28:32]) {
			return posRecord{}, false
		}
		return posRecord{seq: binary.LittleEndian.Uint64(b[4:12]), pos: binary.LittleEndian.Uint64(b[12:20]),
			rec: binary.LittleEndian.Uint64(b[20:28]), hasRec: true}, true
	case posMagicV2:
		if crc32.Checksum(b[:20], castagnoli) != binary.LittleEndian.Uint32(b[20:24]) {
			return posRecord{}, false
		}
		return posRecord{seq: binary.LittleEndian.Uint64(b[4:12]), pos: binary.LittleEndian.Uint64(b[12:20])}, true
	}
	return posRecord{}, false
}

// decodePosFile returns what a position file holds, from the valid slot
// with the highest sequence; ok is false when no slot (or legacy record) is
// valid.
func decodePosFile(b []byte) (r posRecord, ok bool) {
	if len(b) == legacyPosLen {
		if crc32.Checksum(b[:8], castagnoli) != binary.LittleEndian.Uint32(b[8:]) {
			return posRecord{}, false
		}
		return posRecord{pos: binary.LittleEndian.Uint64(b[:8])}, true
	}
	if len(b) != posFileSize {
		return posRecord{}, false
	}
	for i := range 2 {
		s, valid := decodePosSlot(b[i*posSlotSize:])
		if valid && (!ok || s.seq > r.seq) {
			r, ok = s, true
		}
	}
	return r, ok
}

// writePosSlot writes slot seq%2 of path in place and syncs its data when
// sync is set. When current is set the caller knows the file exists in the
// current size (it wrote or loaded it), so the write is open, pwrite,
// (fdatasync), close. Otherwise a missing file is created and one of
// another size (the legacy format, or damaged) is rewritten whole, both
// slots. created says the file is new: its directory entry still needs a
// directory sync.
func writePosSlot(path string, seq, pos, rec uint64, sync, current bool) (created bool, err error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		fd, err = unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o640)
		created = true
	}
	if err != nil {
		return false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer func() {
		if cerr := unix.Close(fd); err == nil && cerr != nil {
			err = &os.PathError{Op: "close", Path: path, Err: cerr}
		}
	}()
	var buf [posFileSize]byte
	off := int64(seq%2) * posSlotSize
	slot := buf[:posSlotSize]
	whole := created
	if !created && !current {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Size != posFileSize {
			whole = true // legacy or damaged: rewrite the whole file below
			defer func() {
				if err == nil {
					if terr := unix.Ftruncate(fd, posFileSize); terr != nil {
						err = &os.PathError{Op: "truncate", Path: path, Err: terr}
					}
				}
			}()
		}
	}
	if whole {
		// Both slots at once: the other one holds the same commit under
		// seq-1 so that a later torn write of this slot leaves it valid.
		encodePosSlot(buf[(seq+1)%2*posSlotSize:], seq-1, pos, rec)
		encodePosSlot(buf[off:], seq, pos, rec)
		slot, off = buf[:], 0
	} else {
		encodePosSlot(slot, seq, pos, rec)
	}
	if err := pwriteAll(fd, slot, off); err != nil {
		return created, &os.PathError{Op: "write", Path: path, Err: err}
	}
	if sync {
		if err := unix.Fdatasync(fd); err != nil {
			return created, &os.PathError{Op: "fdatasync", Path: path, Err: err}
		}
	}
	return created, nil
}

func pwriteAll(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		n, err := unix.Pwrite(fd, b, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}
