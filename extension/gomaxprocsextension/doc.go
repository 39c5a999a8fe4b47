// Package gomaxprocsextension runs the collector's Go code on as few
// threads as the load needs: one while the process is quiet, more (up to
// what the runtime chose at start) as soon as it is busy.
//
// Why: at the rates a host's services log (1k-50k lines/s, one line per
// write), the process is woken thousands of times a second for a little
// work each time. With idle Ps, each wakeup also wakes a spinning thread
// that looks for more work and finds none; on the S4 bench (one line per
// write on a unix stream socket) that cost a quarter to a third of the CPU
// per line. With one P there is nobody to spin. At saturation one P is a
// ceiling (200k lines/s where two reach 300k), so the extension raises
// GOMAXPROCS within an interval of the process using most of what it has,
// and at once when a reader says its source is backed up (lagsignal).
package gomaxprocsextension // import "github.com/otelcol-logx/otelcol-logx/extension/gomaxprocsextension"
