// Package journalfile reads systemd journal files directly, without
// journalctl or libsystemd (pure Go, no cgo), following systemd's "Journal
// File Format" (systemd.io/JOURNAL_FILE_FORMAT).
//
// # What it reads
//
// A File maps one journal file read-only and validates its header: the
// "LPKSHHRH" signature, the header size, the state (offline, online,
// archived) and the incompatible flags. Files with incompatible flags it
// does not know are refused with an *UnsupportedError; the known ones are
// XZ, LZ4 and ZSTD compression, keyed hashes and the compact layout
// (systemd 252+: 32-bit offsets in entries and entry arrays). Entries are
// read in the file's order through the entry array chain that starts at
// the header's entry_array_offset; each gives seqnum, realtime, monotonic,
// boot id, xor hash and its fields ("NAME=value", decompressed, any bytes).
// Entry.AppendCursor writes journald's cursor for an entry exactly as
// journalctl prints __CURSOR; File.Seek goes to the entry after a cursor,
// by seqnum when the cursor comes from the file's seqnum id, else by
// realtime.
//
// Following: File.Refresh re-reads the header (and maps the file again
// when it grew) so Next returns what the writer appended since. Dir merges
// the files of one directory (by seqnum between files of one seqnum id,
// else by realtime), picks up new files and drops archived ones read to the
// end when refreshed, and Dir.Wait blocks on inotify until the directory
// changes (journald makes each write visible to inotify with a truncate to
// the file's own size).
//
// # Hostile files
//
// Every offset is checked against the mapping and every object against its
// type and minimum size before a field of it is read; the entry array
// chain must move forward through the file, so neither a cycle nor a long
// chain can spin; the header's entry count is bounded by the arena (what
// the reader keeps per file, its view of the chain, stays below half the
// file's size even for a hostile file, and is a few hundred bytes for one
// journald wrote, whose entry arrays grow geometrically); an
// entry's fields are bounded by Options.MaxFields and their decompressed
// size by Options.MaxEntryBytes (checked before allocating when the format
// states the size: LZ4 and zstd frames with a content size). A damaged
// entry is an error for that entry (*CorruptError, *EntryTooLargeError) and
// the reader goes on after it; a damaged chain ends the file. A fault while
// reading the mapping (a file truncated under the reader) is an error, not
// a crash. FuzzOpen and TestMutatedFiles hold the reader to that.
//
// # Not supported
//
//   - Forward-secure sealing: TAG objects are skipped, not verified.
//   - Lookups by field or value (matches): the DATA and FIELD hash tables
//     are not read, so the keyed-hash flag needs no siphash here.
//   - Writing, and repairing: a damaged file is read as far as it holds.
//   - Bidirectional iteration and seeking by time other than through a
//     cursor's realtime.
//   - XZ values are read as systemd writes them: one block, one LZMA2
//     filter, a dictionary of at most 8 MiB (systemd uses 1 MiB); the
//     block check is not verified. XZ was systemd's compression before LZ4
//     and zstd, rare in files written today.
//
// Entries point into the mapping: their fields are valid until the next
// read into the same Entry, or a Refresh or Close of the file.
package journalfile
