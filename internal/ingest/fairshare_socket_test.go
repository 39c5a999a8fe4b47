package ingest

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-logx/otelcol-logx/internal/framing"
	"github.com/otelcol-logx/otelcol-logx/internal/syslog"
)

// socketReaders accepts unix stream connections on a real socket and
// reads each as a receiver does: ReadFrames into a Lines with the
// service identity of the lines' app names, offering to s.
type socketReaders struct {
	ln      *net.UnixListener
	readers sync.WaitGroup
}

func listenReaders(t *testing.T, s *Stage, tel *ReaderTelemetry) *socketReaders {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "log.sock"), Net: "unix"})
	require.NoError(t, err)
	sr := &socketReaders{ln: ln}
	go func() {
		for {
			c, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			go func() {
				defer sr.readers.Done()
				defer c.Close()
				id := NewServiceIdentity("", "fallback")
				lines := NewLines(LinesSettings{
					Stage: s, Parser: syslog.Parser{Format: syslog.FormatRFC3164},
					Decorate: id.Set, ExtraAttributes: 1, ServiceKey: id.Key(),
				})
				_ = ReadFrames(framing.NewDecoder(c, framing.Newline, framing.DefaultMaxFrame), lines, tel)
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return sr
}

// write sends n lines of service over one connection and closes it;
// readers.Wait then waits for them to be offered.
func (sr *socketReaders) write(t *testing.T, service string, n int) {
	sr.readers.Add(1)
	c, err := net.DialUnix("unix", nil, sr.ln.Addr().(*net.UnixAddr))
	require.NoError(t, err)
	w := make([]byte, 0, 64<<10)
	for i := range n {
		w = fmt.Appendf(w, "<13>Nov 22 04:00:00 %s[1]: line %d of a service writing to the socket\n", service, i)
		if len(w) > 60<<10 || i == n-1 {
			_, err := c.Write(w)
			require.NoError(t, err)
			w = w[:0]
		}
	}
	require.NoError(t, c.Close())
}

// TestLinesFairShareOverRealSockets: end to end from real unix sockets
// through the framing, Lines and the Stage to a consumer that has stalled:
// a flood of 20 times what the buffer holds fills it, then 20 quiet
// services write; each of their lines is delivered once the consumer
// recovers, the flood's drops are counted under its own name. Without
// fair share most quiet lines are lost to buffer_full.
func TestLinesFairShareOverRealSockets(t *testing.T) {
	const (
		maxBytes   = 2 << 20
		quiet      = 20
		quietLines = 200 // 20 × 200 lines: far more than the gap a full buffer leaves
	)
	floodLines := int(20 * maxBytes / LinesBatchSize(70, 1))
	for _, fair := range []bool{true, false} {
		t.Run("fair_share="+strconv.FormatBool(fair), func(t *testing.T) {
			next := newPaced() // takes nothing until its tokens are closed
			var drops serviceDrops
			cfg := BufferConfig{MaxBytes: maxBytes, FairShare: FairShareConfig{Enabled: &fair}}
			s := NewStage(cfg, StageSettings{Next: next, OnServiceDrop: drops.add})
			s.Start()
			tt := componenttest.NewTelemetry()
			t.Cleanup(func() { _ = tt.Shutdown(context.Background()) })
			tel, err := NewReaderTelemetry(tt.NewTelemetrySettings().MeterProvider.Meter("test"), "test")
			require.NoError(t, err)
			sr := listenReaders(t, s, tel)

			sr.write(t, "flood", floodLines)
			sr.readers.Wait() // the flood is all offered: the buffer is full
			require.Positive(t, drops.of("flood"))
			require.LessOrEqual(t, s.Held(), int64(maxBytes), "parsed request included")
			for q := range quiet {
				sr.write(t, "quiet-"+strconv.Itoa(q), quietLines)
			}
			sr.readers.Wait()
			require.LessOrEqual(t, s.Held(), int64(maxBytes))
			close(next.tokens) // the consumer recovers
			require.Eventually(t, func() bool {
				select {
				case <-next.entered:
				default:
				}
				return s.Held() == 0
			}, 30*time.Second, time.Millisecond)
			require.NoError(t, s.Shutdown(context.Background()))

			lost := 0
			for q := range quiet {
				name := "quiet-" + strconv.Itoa(q)
				assert.Equal(t, quietLines, next.accepted(name)+drops.of(name), name)
				lost += drops.of(name)
			}
			assert.Equal(t, floodLines, next.accepted("flood")+drops.of("flood"), "fed = delivered + dropped")
			if fair {
				assert.Zero(t, lost, "no quiet line lost")
			} else {
				t.Logf("without fair share: %d of %d quiet lines lost", lost, quiet*quietLines)
				assert.Greater(t, lost, quiet*quietLines/2, "without fair share the full buffer refuses most (a small batch may fit a gap)")
			}
		})
	}
}
