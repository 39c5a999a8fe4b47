package cfjs1exporter

// lineBuffers keeps the buffers batches are encoded into, from one batch to
// the next. A sync.Pool would drop them at every garbage collection, which
// at 50k lines/s comes several times a second: each batch after one then
// started from a new 64 KiB buffer and grew it to the batch's size, copying
// it at each doubling (a tenth of the CPU of the S4 profile).
type lineBuffers struct {
	free chan *[]byte
}

// firstBuf is the size a new buffer starts at: a batch of a few hundred
// short lines.
const firstBuf = 64 << 10

// maxKeptBuf is the largest buffer kept: a batch of 5000 lines of 3 KiB.
// Journal entries make lines of about 1 KiB, so their full batches pass
// 4 MiB; a bound that low made each of them grow a new buffer from 64 KiB
// (S5 backlog: 5.1-5.3 µs per entry instead of 3.8). A batch of larger
// records gets a buffer of its own, so that the few buffers kept
// (sending_queue.num_consumers + 1) never pin more than this each.
const maxKeptBuf = 16 << 20

// newLineBuffers keeps up to n buffers: one per batch encoded at once
// (sending_queue.num_consumers) and one for dead-letter copies.
func newLineBuffers(n int) lineBuffers {
	return lineBuffers{free: make(chan *[]byte, max(n, 1))}
}

func (l lineBuffers) get() *[]byte {
	select {
	case bp := <-l.free:
		return bp
	default:
		b := make([]byte, 0, firstBuf)
		return &b
	}
}

func (l lineBuffers) put(bp *[]byte) {
	if cap(*bp) > maxKeptBuf {
		return
	}
	*bp = (*bp)[:0]
	select {
	case l.free <- bp:
	default:
	}
}
