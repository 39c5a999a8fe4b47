package cfjs1

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every refused line is counted by its cause: DropReason names it from the
// error alone.
func TestDropReason(t *testing.T) {
	// Padded, so that its length allows its arrays (containerBudget).
	deep := string(padTo([]byte(`{"format":"a","a":{"message":`+strings.Repeat("[", DefaultMaxDepth+1)+strings.Repeat("]", DefaultMaxDepth+1)+`}}`), 2000))
	manyMembers := func(where string) string {
		var b strings.Builder
		for i := range DefaultMaxMembers + 1 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%d":1`, i)
		}
		return strings.Replace(where, "MEMBERS", b.String(), 1)
	}
	manyValues := `{"format":"a","a":{"message":[` + strings.TrimSuffix(strings.Repeat("1,", DefaultMaxValues), ",") + `]}}`
	cases := []struct{ line, reason string }{
		{`not json`, ReasonInvalidJSON},
		{``, ReasonInvalidJSON},
		{`{"format":"a","a":{}} x`, ReasonInvalidJSON},
		{`{"format":"a","a":{"message":"x}}`, ReasonInvalidJSON},
		{`{"format":"a","a":{"message":01}}`, ReasonInvalidJSON},
		{`{"format":"a","a":{"message":"\q"}}`, ReasonInvalidJSON},
		{`{"format":"a","a":{"message":tru}}`, ReasonInvalidJSON},
		{`{"format":"a","a":{"severity_number":x}}`, ReasonInvalidJSON},
		{`{"format":x,"a":{}}`, ReasonInvalidJSON},
		{`{"format":"a"}`, ReasonNotARecord},
		{`{"a":{}}`, ReasonNotARecord},
		{`{"format":1,"a":{}}`, ReasonNotARecord},
		{`{"format":"a","a":{},"b":{}}`, ReasonNotARecord},
		{`{"format":"a","a":{},"x":1}`, ReasonNotARecord},
		{`{"format":"a","a":{"timestamp":"yesterday"}}`, ReasonNotARecord},
		{`{"format":"a","a":{"timestamp":-1}}`, ReasonNotARecord},
		{`{"format":"a","a":{"severity_number":99}}`, ReasonNotARecord},
		{`{"format":"a","a":{"trace_id":"abc"}}`, ReasonNotARecord},
		{`{"format":"a","a":{"scope":{"name":1}}}`, ReasonNotARecord},
		{`{"format":"a","b":{}}`, ReasonNotARecord}, // the wrapper configured for "a" is "a_w"
		{deep, ReasonTooDeep},
		{manyMembers(`{"format":"a","a":{"attributes":{MEMBERS}}}`), ReasonTooManyMembers},
		{manyMembers(`{"format":"a","a":{"resource":{MEMBERS}}}`), ReasonTooManyMembers},
		{manyMembers(`{"format":"a","a":{MEMBERS}}`), ReasonTooManyMembers},
		{manyMembers(`{"format":"a","a":{"message":{"x":{MEMBERS}}}}`), ReasonTooManyMembers},
		{manyMembers(`{"format":"a","a":{"scope":{MEMBERS}}}`), ReasonNotARecord}, // scope members must be strings
		{manyMembers(`{MEMBERS}`), ReasonNotARecord},                              // top-level members must be objects
		{manyValues, ReasonTooManyValues},
	}
	for _, c := range cases {
		f := newFixture()
		_, err := Decode([]byte(c.line), Wrappers{"a": "a_w"}, f.target())
		if c.line == `{"format":"a","b":{}}` {
			require.Error(t, err)
		} else {
			_, err = Decode([]byte(c.line), nil, f.target())
			require.Error(t, err, "%.80s", c.line)
		}
		assert.Equal(t, c.reason, DropReason(err), "%.80s: %v", c.line, err)
	}
	assert.Empty(t, DropReason(nil))
	assert.Equal(t, ReasonDecodeError, DropReason(errors.New("something else")))
	assert.Equal(t, ReasonTooDeep, DropReason(fmt.Errorf("wrapped: %w", ErrTooDeep)))
}
