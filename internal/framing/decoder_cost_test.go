package framing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-logx/otelcol-logx/internal/testutil"
)

// costRatioLimit is how many times more CPU per byte a long frame read a
// byte at a time may take than ordinary short frames read the same way. A
// decoder linear in its input stays near 1; one that searches the whole
// pending frame again after every read lands in the hundreds for a 1 MiB
// frame.
const costRatioLimit = 5

const mib = 1 << 20

// errOverBudget stops a measurement that has already used far more CPU
// than a linear decoder would, so a regression fails in about a second
// instead of running for minutes.
var errOverBudget = errors.New("over the CPU budget")

// byteAtATime returns its data one byte per Read, as a writer trickling a
// line does, and gives up once the thread has spent budget since from.
type byteAtATime struct {
	data   []byte
	from   time.Duration
	budget time.Duration
}

func (r *byteAtATime) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.budget > 0 && len(r.data)%4096 == 0 && testutil.ThreadCPU()-r.from > r.budget {
		return 0, errOverBudget
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}

// frameSummary stands for a frame in comparisons without holding a
// megabyte of text.
type frameSummary struct {
	n         int
	head      string
	truncated bool
	malformed bool
}

// decodeTrickled decodes in a byte at a time, checking the buffer stays
// within the decoder's bound, and returns the frames and the CPU spent.
func decodeTrickled(t *testing.T, in []byte, mode Mode, maxFrame int, budget time.Duration) ([]frameSummary, time.Duration, error) {
	t.Helper()
	var frames []frameSummary
	var err error
	cpu := testutil.MeasureThreadCPU(func() {
		r := &byteAtATime{data: in, from: testutil.ThreadCPU(), budget: budget}
		d := NewDecoder(r, mode, maxFrame)
		for range len(in) + 1 {
			var f Frame
			if f, err = d.Next(); err != nil {
				break
			}
			frames = append(frames, frameSummary{len(f.Bytes), string(f.Bytes[:min(4, len(f.Bytes))]), f.Truncated, f.Malformed})
		}
		require.LessOrEqual(t, cap(d.buf), maxFrame+maxHeader+1, "decoder memory beyond max frame plus header")
	})
	return frames, cpu, err
}

// shortLines is about size bytes of ordinary ~100-byte frames in the
// given encoding: the yardstick a long frame's cost per byte is held to.
func shortLines(size int, octet bool) []byte {
	body := bytes.Repeat([]byte("x"), 96)
	var b []byte
	for len(b) < size {
		if octet {
			b = strconv.AppendInt(b, int64(len(body)+4), 10)
			b = append(b, ' ')
		}
		b = append(b, "<13>"...)
		b = append(b, body...)
		if !octet {
			b = append(b, '\n')
		}
	}
	return b
}

func repeatByte(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }

func octetFrame(n int, body []byte) []byte {
	return append(fmt.Appendf(nil, "%d ", n), body...)
}

type costCase struct {
	name  string
	mode  Mode
	max   int
	input []byte
	octet bool // the yardstick is octet-counted frames
	want  []frameSummary
}

func costCases() []costCase {
	okLine := []byte("\nok\n")
	okFrame := []byte("2 ok")
	ok := frameSummary{n: 2, head: "ok"}
	return []costCase{
		{
			name: "newline/line_of_1MiB", mode: Newline, max: mib,
			input: append(repeatByte('x', mib), okLine...),
			want:  []frameSummary{{n: mib, head: "xxxx"}, ok},
		},
		{
			name: "newline/line_just_over_max", mode: Newline, max: mib,
			input: append(repeatByte('x', mib+4096), okLine...),
			want:  []frameSummary{{n: mib, head: "xxxx", truncated: true}, ok},
		},
		{
			name: "newline/line_of_1MiB_over_default_max", mode: Newline, max: DefaultMaxFrame,
			input: append(repeatByte('x', mib), okLine...),
			want:  []frameSummary{{n: DefaultMaxFrame, head: "xxxx", truncated: true}, ok},
		},
		{
			name: "octet_counting/frame_of_1MiB", mode: OctetCounting, max: mib, octet: true,
			input: append(octetFrame(mib, repeatByte('x', mib)), okFrame...),
			want:  []frameSummary{{n: mib, head: "xxxx"}, ok},
		},
		{
			name: "octet_counting/frame_just_over_max", mode: OctetCounting, max: mib, octet: true,
			input: append(octetFrame(mib+4096, repeatByte('x', mib+4096)), okFrame...),
			want:  []frameSummary{{n: mib, head: "xxxx", truncated: true}, ok},
		},
		{
			name: "octet_counting/malformed_line_of_1MiB", mode: OctetCounting, max: mib, octet: true,
			input: append(append([]byte("<13>"), repeatByte('x', mib-4)...), "\n2 ok"...),
			want:  []frameSummary{{n: mib, head: "<13>", malformed: true}, ok},
		},
		{
			name: "octet_counting/malformed_line_just_over_max", mode: OctetCounting, max: mib, octet: true,
			input: append(append([]byte("<13>"), repeatByte('x', mib+4096)...), "\n2 ok"...),
			want:  []frameSummary{{n: mib, head: "<13>", truncated: true, malformed: true}, ok},
		},
		{
			name: "auto/line_of_1MiB", mode: Auto, max: mib,
			input: append(append([]byte("<13>"), repeatByte('x', mib-4)...), okLine...),
			want:  []frameSummary{{n: mib, head: "<13>"}, ok},
		},
		{
			name: "auto/frame_just_over_max", mode: Auto, max: mib, octet: true,
			input: append(octetFrame(mib+4096, repeatByte('x', mib+4096)), okFrame...),
			want:  []frameSummary{{n: mib, head: "xxxx", truncated: true}, ok},
		},
	}
}

// TestLongFrameCostLinear feeds 1 MiB frames (and frames just over the
// maximum) a byte per read, in every mode, and holds their CPU per byte to
// that of ordinary short frames fed the same way in the same run. A
// decoder that searched its whole buffer after every read took seconds of
// CPU for one such line.
func TestLongFrameCostLinear(t *testing.T) {
	for _, c := range costCases() {
		t.Run(c.name, func(t *testing.T) {
			ref := shortLines(len(c.input), c.octet)
			// Best of three: one measurement can be disturbed (a page
			// fault storm, a migration); a real regression fails all three.
			var ratio float64
			for attempt := 0; attempt < 3; attempt++ {
				_, refCPU, err := decodeTrickled(t, ref, c.mode, c.max, 0)
				require.ErrorIs(t, err, io.EOF)
				perByte := float64(refCPU) / float64(len(ref))
				budget := time.Duration(2 * costRatioLimit * perByte * float64(len(c.input)))
				frames, cpu, err := decodeTrickled(t, c.input, c.mode, c.max, budget)
				if errors.Is(err, errOverBudget) {
					// Twice the limit already spent, with input left: no
					// disturbance explains that, so no second attempt.
					ratio = 2 * costRatioLimit
					t.Logf("attempt %d: stopped after %v of CPU, over %dx the short frames' cost", attempt, cpu, 2*costRatioLimit)
					break
				}
				require.ErrorIs(t, err, io.EOF)
				assert.Equal(t, c.want, frames)
				ratio = float64(cpu) / float64(len(c.input)) / perByte
				t.Logf("attempt %d: %.0f ns/byte vs %.0f ns/byte for short frames (%v for %d bytes): ratio %.2f",
					attempt, float64(cpu)/float64(len(c.input)), perByte, cpu, len(c.input), ratio)
				if ratio <= costRatioLimit {
					break
				}
			}
			assert.LessOrEqual(t, ratio, float64(costRatioLimit), "CPU per byte of a long frame read a byte at a time")
		})
	}
}
