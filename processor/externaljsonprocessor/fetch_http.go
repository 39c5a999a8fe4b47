package externaljsonprocessor

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
)

// fetchResult is what a source returned.
type fetchResult struct {
	body        []byte
	etag        string
	notModified bool // HTTP 304: the last good values are still current
}

// fetcher gets a source's current document. etag is the last good response's
// entity tag (HTTP only). fetch is called by one goroutine at a time.
type fetcher interface {
	fetch(ctx context.Context, etag string) (fetchResult, *fetchError)
}

// httpFetcher GETs the endpoint with the client built from confighttp.
type httpFetcher struct {
	client   *http.Client
	endpoint string
	maxSize  int64
}

func (f *httpFetcher) fetch(ctx context.Context, etag string) (fetchResult, *fetchError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.endpoint, http.NoBody)
	if err != nil {
		return fetchResult{}, refuse(reasonTransport, "building request: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		if isTimeout(err) {
			return fetchResult{}, refuse(reasonTimeout, "GET %s: %v", f.endpoint, err)
		}
		return fetchResult{}, refuse(reasonTransport, "GET %s: %v", f.endpoint, err)
	}
	defer resp.Body.Close() //nolint:errcheck // response body: only what was read matters
	if resp.StatusCode == http.StatusNotModified {
		return fetchResult{etag: etag, notModified: true}, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // let the connection be reused
		return fetchResult{}, refuse(reasonHTTPStatus, "GET %s: status %s", f.endpoint, resp.Status)
	}
	if resp.ContentLength > f.maxSize {
		return fetchResult{}, refuse(reasonTooLarge, "GET %s: Content-Length %d is over max_size %d", f.endpoint, resp.ContentLength, f.maxSize)
	}
	// Read one byte past the limit to tell "exactly max_size" from "more".
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxSize+1))
	if err != nil {
		if isTimeout(err) {
			return fetchResult{}, refuse(reasonTimeout, "GET %s: reading body: %v", f.endpoint, err)
		}
		return fetchResult{}, refuse(reasonTransport, "GET %s: reading body: %v", f.endpoint, err)
	}
	if int64(len(body)) > f.maxSize {
		return fetchResult{}, refuse(reasonTooLarge, "GET %s: body is over max_size %d bytes", f.endpoint, f.maxSize)
	}
	return fetchResult{body: body, etag: resp.Header.Get("ETag")}, nil
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
