package segment

import (
	"bufio"
	"errors"
	"io"
)

// ScanResult describes the valid prefix of a segment.
type ScanResult struct {
	ValidBytes int64 // bytes of whole, verified frames from the start
	Records    int64 // frames in the valid prefix
	FirstTS    int64 // timestamp of the first valid frame (0 if none)
	LastTS     int64 // timestamp of the last valid frame (0 if none)
	Torn       bool  // the data ends inside a frame (torn write)
	Corrupt    bool  // a frame failed its length or checksum check
}

// Scan reads frames from r until the end or the first bad frame. It never
// fails on bad data: what follows the valid prefix is reported, so the
// caller can cut it off and count it. Only read errors are returned.
func Scan(r io.Reader, maxPayload int) (ScanResult, error) {
	var res ScanResult
	br := bufio.NewReaderSize(r, 64<<10)
	hdr := make([]byte, HeaderSize)
	var payload []byte
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			if errors.Is(err, io.EOF) {
				return res, nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				res.Torn = true
				return res, nil
			}
			return res, err
		}
		n, err := DecodeHeader(hdr, maxPayload)
		if err != nil {
			res.Corrupt = true
			return res, nil
		}
		if cap(payload) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(br, payload); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				res.Torn = true
				return res, nil
			}
			return res, err
		}
		if !Verify(hdr, payload) {
			res.Corrupt = true
			return res, nil
		}
		res.ValidBytes += int64(HeaderSize + n)
		res.Records++
		res.LastTS = Timestamp(hdr)
		if res.Records == 1 {
			res.FirstTS = res.LastTS
		}
	}
}
