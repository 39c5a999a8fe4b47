package externaljsonprocessor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Failure reasons, the `reason` attribute of the fetch failure counter.
const (
	reasonTransport     = "transport"       // connection, DNS, TLS, ...
	reasonTimeout       = "timeout"         // http timeout or command killed at its timeout
	reasonHTTPStatus    = "http_status"     // non-2xx, non-304 status
	reasonTooLarge      = "too_large"       // body or output over max_size
	reasonExitStatus    = "exit_status"     // command exited non-zero or could not start
	reasonInvalidJSON   = "invalid_json"    // not parseable JSON (or trailing data)
	reasonNotObject     = "not_object"      // JSON, but not an object
	reasonTooManyFields = "too_many_fields" // more attributes than mapping.max_fields
	reasonNoFields      = "no_fields"       // blank object, or none of the chosen paths present
	reasonInvalidText   = "invalid_text"    // text_key output empty or not UTF-8
	// Refusals of the guard (GuardConfig): the response is well formed but
	// does not look like the last good one.
	reasonShrunk          = "shrunk"           // lost more than guard.max_field_loss of the last good fields
	reasonMissingRequired = "missing_required" // a guard.required_paths path is absent or null
)

// Reasons a single field of an accepted response is skipped, the `reason`
// attribute of the skipped fields counter.
const (
	skipReserved = "reserved" // a reserved name not in mapping.allow_reserved
)

// fetchError is a failed or refused fetch, with the reason it is counted under.
type fetchError struct {
	reason string
	err    error
}

func (e *fetchError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

func refuse(reason, format string, a ...any) *fetchError {
	return &fetchError{reason: reason, err: fmt.Errorf(format, a...)}
}

// fieldSpec is one configured path, split once at start.
type fieldSpec struct {
	path   []string
	key    string
	policy conflictPolicy
}

// mapping turns a response into prepared fields. It is built once from the
// config and used only by its source's goroutine.
type mapping struct {
	prefix    string
	policy    conflictPolicy
	specs     []fieldSpec // empty: whole object
	maxFields int
	textKey   string // non-empty: the output is plain text, not JSON
	reserved  reservedFilter
	// required are guard.required_paths, split; requiredNames as written.
	required      [][]string
	requiredNames []string
}

func newMapping(m MappingConfig, textKey string) *mapping {
	mp := &mapping{prefix: m.Prefix, maxFields: m.MaxFields, textKey: textKey, reserved: newReservedFilter(m.AllowReserved)}
	mp.policy, _ = parsePolicy(m.OnConflict)
	for _, f := range m.Fields {
		key := f.Key
		if key == "" {
			key = f.Path
		}
		p := mp.policy
		if f.OnConflict != "" {
			p, _ = parsePolicy(f.OnConflict)
		}
		mp.specs = append(mp.specs, fieldSpec{path: strings.Split(f.Path, "."), key: m.Prefix + key, policy: p})
	}
	return mp
}

// requiring makes decode refuse an object that lacks one of paths.
func (m *mapping) requiring(paths []string) *mapping {
	for _, p := range paths {
		m.required = append(m.required, strings.Split(p, "."))
		m.requiredNames = append(m.requiredNames, p)
	}
	return m
}

// decode checks a response and prepares its fields. Everything from the
// source is untrusted: it must be one JSON object (or, with text_key, one
// line of UTF-8 text) holding every required path, and must yield between
// 1 and max_fields attributes. Reserved names are left out (skipped says
// which); they count toward neither limit.
func (m *mapping) decode(body []byte) (fields []field, skipped skippedNames, ferr *fetchError) {
	if m.textKey != "" {
		text := strings.TrimSpace(string(body))
		if text == "" || !utf8.ValidString(text) {
			return nil, skippedNames{}, refuse(reasonInvalidText, "output is empty or not UTF-8 text (text_key %q)", m.textKey)
		}
		key := m.prefix + m.textKey
		if m.reserved.refuses(key) { // Validate refuses this configuration
			return nil, skippedNames{}, refuse(reasonNoFields, "text_key attribute %q is reserved", key)
		}
		return []field{newField(key, pcommon.NewValueStr(text), m.policy)}, skippedNames{}, nil
	}
	obj, ferr := parseObject(body)
	if ferr != nil {
		return nil, skippedNames{}, ferr
	}
	for i, path := range m.required {
		if v, ok := lookup(obj, path); !ok || v == nil {
			return nil, skippedNames{}, refuse(reasonMissingRequired, "required path %q (guard.required_paths) is missing or null in the response (first bytes: %q)", m.requiredNames[i], head(body))
		}
	}
	d := decoder{m: m}
	if len(m.specs) == 0 {
		if err := d.flatten(m.prefix, obj, m.policy); err != nil {
			return nil, skippedNames{}, err
		}
	} else {
		for _, spec := range m.specs {
			v, ok := lookup(obj, spec.path)
			if !ok {
				continue
			}
			if err := d.flattenValue(spec.key, v, spec.policy); err != nil {
				return nil, skippedNames{}, err
			}
		}
	}
	slices.Sort(d.skipped.names)
	if len(d.out) == 0 {
		return nil, d.skipped, refuse(reasonNoFields, "the object yields no fields (it is empty, or none of the configured paths is present, or all its names are reserved); a blank answer is not taken as the new truth")
	}
	return d.out, d.skipped, nil
}

// parseObject parses exactly one JSON object, with numbers kept exact.
func parseObject(body []byte) (map[string]any, *fetchError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, refuse(reasonInvalidJSON, "invalid JSON: %v (first bytes: %q)", err, head(body))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, refuse(reasonInvalidJSON, "invalid JSON: data after the object (first bytes: %q)", head(body))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, refuse(reasonNotObject, "the JSON value is a %s, not an object (first bytes: %q)", jsonKind(v), head(body))
	}
	return obj, nil
}

func head(b []byte) string {
	const n = 64
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func lookup(obj map[string]any, path []string) (any, bool) {
	var cur any = obj
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// decoder collects the fields of one response.
type decoder struct {
	m       *mapping
	out     []field
	skipped skippedNames
}

// maxSkippedNamed bounds the names kept of the skipped ones (for the log):
// a response within max_size can still hold many thousand names.
const maxSkippedNamed = 16

// skippedNames are the reserved names a response held: how many, and the
// first maxSkippedNamed of them, sorted.
type skippedNames struct {
	count int
	names []string
}

func (s *skippedNames) add(name string) {
	s.count++
	if len(s.names) < maxSkippedNamed {
		s.names = append(s.names, name)
	}
}

// flatten adds every member of obj under prefix, in key order so that the
// field set (and so the attribute order) is the same on every refresh.
func (d *decoder) flatten(prefix string, obj map[string]any, p conflictPolicy) *fetchError {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := d.flattenValue(prefix+k, obj[k], p); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) flattenValue(key string, v any, p conflictPolicy) *fetchError {
	if obj, ok := v.(map[string]any); ok {
		return d.flatten(key+".", obj, p)
	}
	if v == nil {
		return nil // null: nothing to add
	}
	if d.m.reserved.refuses(key) {
		d.skipped.add(key)
		return nil
	}
	if len(d.out) >= d.m.maxFields {
		return refuse(reasonTooManyFields, "the object yields more than max_fields (%d) attributes", d.m.maxFields)
	}
	val := pcommon.NewValueEmpty()
	if err := val.FromRaw(toRaw(v)); err != nil {
		return refuse(reasonInvalidJSON, "value of %q: %v", key, err)
	}
	d.out = append(d.out, newField(key, val, p))
	return nil
}

// toRaw converts json.Number (kept by UseNumber) to int64 when integral,
// float64 otherwise, so that pcommon's FromRaw accepts the value.
func toRaw(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = toRaw(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toRaw(e)
		}
		return out
	}
	return v
}
