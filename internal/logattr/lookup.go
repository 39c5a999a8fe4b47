package logattr

import "go.opentelemetry.io/collector/pdata/pcommon"

// StringOf is the attribute name of a record as a string: the record's own,
// else its resource's; false when neither has it or it is empty. A value
// that is not a string is read as its string form (a tenant id written as
// a number is the same tenant).
func StringOf(name string, rec, res pcommon.Map) (string, bool) {
	v, ok := rec.Get(name)
	if !ok {
		v, ok = res.Get(name)
	}
	if !ok {
		return "", false
	}
	if v.Type() == pcommon.ValueTypeStr {
		return v.Str(), v.Str() != ""
	}
	s := v.AsString()
	return s, s != ""
}
