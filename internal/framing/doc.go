// Package framing splits a byte stream into messages: newline-delimited
// lines, RFC 6587 octet-counted frames ("LEN SP MSG"), or either, chosen per
// connection from its first byte. Every frame is bounded by a maximum size:
// a longer one is truncated to the maximum and reported as such, and the
// rest of it is read and discarded, so memory per stream never exceeds about
// the maximum frame size whatever the writer sends. The work is linear in
// the input however the writer cuts it into writes: the search for the end
// of a line resumes where the previous read left it, so a line trickled in
// a byte at a time costs no more per byte than lines arriving whole.
//
// The Decoder is zero-copy: a returned frame points into the decoder's
// buffer and stays valid only until the next call to Next.
package framing // import "github.com/otelcol-logx/otelcol-logx/internal/framing"
