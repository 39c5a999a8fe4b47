package journalfile

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// ID128 is a 128-bit systemd id (file, machine, boot, seqnum id).
type ID128 [16]byte

// String is the id as 32 lowercase hex digits, as journalctl prints it.
func (id ID128) String() string { return hex.EncodeToString(id[:]) }

// Header is the part of a journal file's header this package reads: a
// snapshot taken at Open or the last Refresh.
type Header struct {
	CompatibleFlags   uint32
	IncompatibleFlags uint32
	State             State
	FileID            ID128
	MachineID         ID128
	TailEntryBootID   ID128
	SeqnumID          ID128
	HeaderSize        uint64
	ArenaSize         uint64
	NEntries          uint64
	HeadEntrySeqnum   uint64
	TailEntrySeqnum   uint64
	HeadEntryRealtime uint64 // µs since the epoch
	TailEntryRealtime uint64
	EntryArrayOffset  uint64
}

// Compact reports 32-bit offsets in entries and entry arrays (systemd 252+).
func (h Header) Compact() bool { return h.IncompatibleFlags&incompatCompact != 0 }

// Sealed reports forward-secure sealing (TAG objects); this package does not
// verify the tags.
func (h Header) Sealed() bool { return h.CompatibleFlags&compatSealed != 0 }

// parseHeader validates the fixed header at the start of m, whose file is
// size bytes long.
func parseHeader(m []byte, size uint64) (Header, error) {
	var h Header
	if uint64(len(m)) < minHeaderSize {
		return h, corruptf("file is %d bytes, shorter than a journal header (%d)", len(m), minHeaderSize)
	}
	if string(m[:8]) != signature {
		return h, corruptf("no journal file signature (%q)", m[:8])
	}
	le := binary.LittleEndian
	h.CompatibleFlags = le.Uint32(m[hdrCompatibleFlags:])
	h.IncompatibleFlags = le.Uint32(m[hdrIncompatibleFlags:])
	if unknown := h.IncompatibleFlags &^ incompatKnown; unknown != 0 {
		return h, &UnsupportedError{Flags: unknown}
	}
	h.State = State(m[hdrState])
	if h.State > StateArchived {
		return h, corruptf("unknown header state %d", h.State)
	}
	copy(h.FileID[:], m[hdrFileID:])
	copy(h.MachineID[:], m[hdrMachineID:])
	copy(h.TailEntryBootID[:], m[hdrTailEntryBootID:])
	copy(h.SeqnumID[:], m[hdrSeqnumID:])
	h.HeaderSize = le.Uint64(m[hdrHeaderSize:])
	h.ArenaSize = le.Uint64(m[hdrArenaSize:])
	if h.HeaderSize < minHeaderSize || h.HeaderSize%8 != 0 || h.HeaderSize > size {
		return h, corruptf("header size %d is invalid for a file of %d bytes", h.HeaderSize, size)
	}
	if h.ArenaSize > size-h.HeaderSize {
		return h, corruptf("arena (%d bytes after a %d-byte header) extends past the end of the file (%d bytes)",
			h.ArenaSize, h.HeaderSize, size)
	}
	h.NEntries = le.Uint64(m[hdrNEntries:])
	h.TailEntrySeqnum = le.Uint64(m[hdrTailEntrySeqnum:])
	h.HeadEntrySeqnum = le.Uint64(m[hdrHeadEntrySeqnum:])
	h.EntryArrayOffset = le.Uint64(m[hdrEntryArrayOffset:])
	h.HeadEntryRealtime = le.Uint64(m[hdrHeadEntryRealtime:])
	h.TailEntryRealtime = le.Uint64(m[hdrTailEntryRealtime:])
	// Every entry is an object of at least entryItems bytes: a count larger
	// than the arena can hold is a lie, and would size the chain walk.
	if h.NEntries > h.ArenaSize/entryItems {
		return h, corruptf("header claims %d entries, more than %d arena bytes can hold", h.NEntries, h.ArenaSize)
	}
	return h, nil
}

// UnsupportedError is a file with incompatible flags this reader does not
// know: reading it anyway could return garbage.
type UnsupportedError struct {
	Flags uint32 // the unknown bits
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("journal file uses unsupported incompatible flags %#x", e.Flags)
}

// CorruptError is a file whose structure does not hold together: an offset
// out of bounds, an object of the wrong type or size, a broken chain.
type CorruptError struct {
	Detail string
}

func (e *CorruptError) Error() string { return "corrupt journal file: " + e.Detail }

func corruptf(format string, args ...any) error {
	return &CorruptError{Detail: fmt.Sprintf(format, args...)}
}
