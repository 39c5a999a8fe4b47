// Package sdactivation keeps the descriptors of local receivers (FIFOs and
// unix sockets) open across collector restarts and in-process reloads.
//
// A service manager (systemd socket activation: ListenFIFO=, ListenStream=,
// ListenDatagram=) may pass the descriptors in, from fd 3 on, with
// LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES: it keeps them open while the
// collector restarts, so writers never see a FIFO without a reader nor a
// missing socket. They are read once per process into a process-wide
// registry. A receiver asks the registry for the descriptor matching its
// type and path and gets its own duplicate; at shutdown it hands the
// descriptor back instead of closing it, so that the receiver made by an
// in-process reload finds it again. Descriptors a receiver created itself
// are kept the same way for a while after its shutdown (a reload does not
// close the read end of a FIFO nor remove a socket), then closed.
package sdactivation // import "github.com/otelcol-logx/otelcol-logx/internal/sdactivation"
