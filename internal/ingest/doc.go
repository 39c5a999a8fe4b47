// Package ingest is the stage between a receiver's readers and the next
// consumer that lets the readers never block the programs writing to them.
//
// Readers hand batches to a Stage, which holds them up to a bound in bytes
// and never makes the reader wait: beyond the bound it drops, the newest or
// the oldest batch as configured, and counts every dropped record with a
// reason. A single sender goroutine drains the Stage into the consumer,
// merging the batches already waiting into one request (up to
// MaxMergeRecords / MaxMergeBytes, each batch's resource logs kept as they
// are): a consumer that pays per request, such as a persistent queue that
// syncs the disk, gets bigger requests as it falls behind instead of the
// buffer overflowing, and at low load nothing waits for company. A request
// the consumer refuses with a retryable error stays held (within the
// bound, evictable whole under drop_oldest) and is retried as it is with
// backoff; one refused with a permanent error is dropped and counted. At shutdown what is held is offered to the consumer
// until the caller's deadline or DrainTimeout, whichever comes first (a
// delivery still in progress then is cancelled), and the rest is counted
// with reason shutdown and logged once. So every record a reader offered is
// either delivered or counted as dropped, exactly once, a stop included.
//
// The bound is shared fairly between services (fairshare.go): each batch
// says whose records it holds (Batch.Key, the logx.service the records
// get), and when the buffer is full the service holding the most loses,
// so a flood from one service never drops a line of a quieter one. Drops
// are counted by service (StageSettings.OnServiceDrop). What counts
// against the bound is what a held record really costs (recordcost.go).
//
// Lines builds those batches from received lines: the reader only copies
// them into one arena and offers it; the Stage's sender parses the whole
// batch (internal/syslog) from that arena viewed as a single string, so
// readers spend nothing on parsing, and nothing is parsed that is dropped.
package ingest // import "github.com/otelcol-logx/otelcol-logx/internal/ingest"
