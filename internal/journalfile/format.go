package journalfile

// On-disk layout of systemd's journal file format ("Journal File Format",
// systemd.io/JOURNAL_FILE_FORMAT). All integers are little-endian; every
// object starts on an 8-byte boundary; every offset is from the start of
// the file.

const signature = "LPKSHHRH"

// Header field offsets.
const (
	hdrCompatibleFlags   = 8
	hdrIncompatibleFlags = 12
	hdrState             = 16
	hdrFileID            = 24
	hdrMachineID         = 40
	hdrTailEntryBootID   = 56
	hdrSeqnumID          = 72
	hdrHeaderSize        = 88
	hdrArenaSize         = 96
	hdrTailObjectOffset  = 136
	hdrNObjects          = 144
	hdrNEntries          = 152
	hdrTailEntrySeqnum   = 160
	hdrHeadEntrySeqnum   = 168
	hdrEntryArrayOffset  = 176
	hdrHeadEntryRealtime = 184
	hdrTailEntryRealtime = 192
	hdrTailEntryMono     = 200

	// minHeaderSize is the header of the oldest format (before systemd 187
	// added the object counters); everything this reader needs is in it.
	minHeaderSize = 208
)

// Incompatible flags: a reader that does not know one cannot read the file.
const (
	incompatXZ        = 1 << 0
	incompatLZ4       = 1 << 1
	incompatKeyedHash = 1 << 2 // hash tables use siphash; entries are read without them
	incompatZSTD      = 1 << 3
	incompatCompact   = 1 << 4 // 32-bit offsets in entries and entry arrays

	incompatKnown = incompatXZ | incompatLZ4 | incompatKeyedHash | incompatZSTD | incompatCompact
)

// Compatible flags: informative, a reader may ignore them.
const (
	compatSealed           = 1 << 0
	compatTailEntryBootID  = 1 << 1
	compatSealedContinuous = 1 << 2
)

// Object types.
const (
	objectUnused         = 0
	objectData           = 1
	objectField          = 2
	objectEntry          = 3
	objectDataHashTable  = 4
	objectFieldHashTable = 5
	objectEntryArray     = 6
	objectTag            = 7
)

// Object flags: how a DATA object's payload is compressed.
const (
	objCompressedXZ   = 1 << 0
	objCompressedLZ4  = 1 << 1
	objCompressedZSTD = 1 << 2
	objCompressedMask = objCompressedXZ | objCompressedLZ4 | objCompressedZSTD
)

// Object layouts: offsets inside an object.
const (
	objHeaderSize = 16 // type u8, flags u8, reserved[6], size le64
	objSizeOffset = 8

	// DATA: hash, next_hash_offset, next_field_offset, entry_offset,
	// entry_array_offset, n_entries, then the payload; compact files add
	// two 32-bit fields before it.
	dataPayloadRegular = 64
	dataPayloadCompact = 72

	// ENTRY: seqnum, realtime, monotonic, boot_id[16], xor_hash, items.
	entrySeqnum    = 16
	entryRealtime  = 24
	entryMonotonic = 32
	entryBootID    = 40
	entryXorHash   = 56
	entryItems     = 64

	// ENTRY_ARRAY: next_entry_array_offset, items.
	arrayNext  = 16
	arrayItems = 24
)

// State is the header's state byte.
type State uint8

const (
	StateOffline  State = 0 // closed cleanly by its writer
	StateOnline   State = 1 // open for writing (or the writer died)
	StateArchived State = 2 // rotated away: no writer will append to it again
)

func (s State) String() string {
	switch s {
	case StateOffline:
		return "offline"
	case StateOnline:
		return "online"
	case StateArchived:
		return "archived"
	}
	return "unknown"
}
