package ingest

import "github.com/otelcol-logx/otelcol-logx/internal/framing"

// ReadFrames feeds every frame of a stream into lines, counting truncated
// and malformed frames, until the decoder fails. The batch is flushed
// whenever the decoder is about to wait for input (a batch is never held
// back while the writer is quiet) and once more at the end; the error that
// ended the stream is returned for the caller to judge.
func ReadFrames(dec *framing.Decoder, lines *Lines, tel *ReaderTelemetry) error {
	dec.OnRead = lines.Flush
	for {
		f, err := dec.Next()
		if err != nil {
			lines.Flush()
			return err
		}
		if f.Truncated {
			tel.Truncated()
		}
		if f.Malformed {
			tel.Malformed("octet_counting_header")
		}
		lines.Add(f.Bytes)
	}
}
