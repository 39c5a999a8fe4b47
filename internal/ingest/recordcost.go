package ingest

// What a held record costs, so that buffer.max_bytes bounds memory rather
// than an estimate of it.
//
// A batch from Lines is held as its reader made it: one arena of the lines'
// text (exactly sized), one int per line marking where it ends, and the
// batch itself (its node in the stage's lists, the Batch, the Build
// closure and the two slice allocations rounded up to Go's size classes).
// It is parsed only when the sender takes it, so the parsed form exists
// only for the one request being delivered: while it is, the stage counts
// Batch.ParsedSize more for it (for Lines, parsedRecordBytes per record:
// bodies and attribute values are substrings of the arena and cost
// nothing more).
//
// The numbers are measured: parsedRecordBytes by
// TestRecordCostMatchesMeasurement, which fails if it drifts by more than
// a quarter from what the runtime reports as allocated for an RFC 3164
// line with the four attributes its header gives plus the reader's own
// (362 B with room for one, 538 B with room for five, as a stream reader
// with peer credentials gives); BatchOverhead by
// TestHeldBytesMatchHeapGrowth, which holds 20,000 lines of 84 bytes in a
// stage and fails if Held is more than a quarter off the heap they keep
// alive (after a GC): one line a batch (a busy writer's read at low rate,
// where the batch's own cost counts most) measured 366 B a line, counted
// 364; a hundred a batch measured 105 B a line, counted 95 (the text's
// allocations rounded up to Go's size classes). The 512 B per record
// counted before was the parsed form's cost, counted for every queued
// record when only the request being delivered is ever parsed: a 64 MiB
// buffer of 100-byte lines then held about 110,000 lines, where it now
// holds about 500,000 (135 B a line at ten lines a batch).
const (
	// LineIndexBytes is the end offset a held line has in its batch.
	LineIndexBytes = 8
	// BatchOverhead is what a held batch costs beside its lines: its node
	// in the stage's lists (with the Batch), the Build closure, and the
	// rounding of its two slices to Go's size classes.
	BatchOverhead = 272
	// ParsedRecordBase and ParsedAttributeBytes make the memory of one
	// parsed record of the request being delivered, beyond the text it
	// shares with its arena: the record, and a slot per attribute it has
	// room for (for Lines: four from the syslog header, and the reader's
	// own).
	ParsedRecordBase     = 142
	ParsedAttributeBytes = 44
)

// parsedRecordBytes is what a parsed record with room for extra
// attributes beside the syslog header's costs.
func parsedRecordBytes(extra int) int64 {
	return ParsedRecordBase + int64(4+extra)*ParsedAttributeBytes
}

// LinesBatchSize is what a batch of lines holding textBytes of text costs.
func LinesBatchSize(textBytes, lines int) int64 {
	return BatchOverhead + int64(textBytes) + int64(lines)*LineIndexBytes
}
