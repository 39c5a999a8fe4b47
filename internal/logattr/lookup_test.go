package logattr

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestStringOfRecordThenResource(t *testing.T) {
	rec, res := pcommon.NewMap(), pcommon.NewMap()
	res.PutStr(Tenant, "from-resource")
	s, ok := StringOf(Tenant, rec, res)
	assert.True(t, ok)
	assert.Equal(t, "from-resource", s)

	rec.PutInt(Tenant, 42)
	s, ok = StringOf(Tenant, rec, res)
	assert.True(t, ok)
	assert.Equal(t, "42", s, "the record's own wins, read as a string")

	rec.PutStr(Tenant, "")
	_, ok = StringOf(Tenant, rec, res)
	assert.False(t, ok, "empty is no tenant")
	_, ok = StringOf("absent", rec, res)
	assert.False(t, ok)
}
