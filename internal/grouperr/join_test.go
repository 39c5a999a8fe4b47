package grouperr

import (
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestJoinNilWhenNoProblem(t *testing.T) {
	assert.NoError(t, Join())
	assert.NoError(t, Join(nil, nil))
}

func TestJoinOneLineUnwrapsEach(t *testing.T) {
	a := errors.New("max_entries 0: write a value from 1 to 100000")
	err := Join(a, nil, io.EOF)
	require.EqualError(t, err, "max_entries 0: write a value from 1 to 100000; EOF")
	require.ErrorIs(t, err, a)
	assert.ErrorIs(t, err, io.EOF)
}

type group struct{ problems []error }

func (g group) Validate() error { return Join(g.problems...) }

type parent struct {
	Batch group `mapstructure:"batch"`
}

// Every problem of the group stays under the path the collector gives it.
func TestJoinStaysUnderTheGroupPath(t *testing.T) {
	err := confmap.Validate(parent{Batch: group{problems: []error{errors.New("max_entries 0"), errors.New("max_bytes 1")}}})
	require.EqualError(t, err, "batch: max_entries 0; max_bytes 1")
}
