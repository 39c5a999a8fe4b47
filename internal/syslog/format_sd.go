package syslog

import "go.opentelemetry.io/collector/pdata/pcommon"

// formatSDSmall is how many syslog.sd.* attributes a record may have for
// them to be grouped by comparing ids pairwise; past it they are grouped
// through a map, in time linear in their number. Records from the parser
// carry at most DefaultMaxSDParams of them, but a record from elsewhere (a
// cfjs1 line from an edge host) may carry any number.
const formatSDSmall = 16

// formatRecordSD writes the record's syslog.sd.<id>.<param> attributes as
// SD elements: one element per id, in the order each id first appears,
// holding its params in attribute order.
func formatRecordSD(dst []byte, attrs pcommon.Map) []byte {
	n := 0
	for k := range attrs.All() {
		if _, _, ok := formatSplitSDKey(k); ok {
			if n++; n > formatSDSmall {
				return formatRecordSDGrouped(dst, attrs)
			}
		}
	}
	return formatRecordSDPairwise(dst, attrs)
}

// formatRecordSDPairwise groups without a map: for each attribute that
// opens a not yet written id, it writes the element with every later
// attribute of that id. Quadratic in the SD attributes, so only for few.
func formatRecordSDPairwise(dst []byte, attrs pcommon.Map) []byte {
	i := 0
	for k, v := range attrs.All() {
		id, param, ok := formatSplitSDKey(k)
		if ok && !formatSDIDSeen(attrs, id, i) {
			dst = append(dst, '[')
			dst = formatSDName(dst, id)
			dst = formatSDParam(dst, param, v)
			j := 0
			for k2, v2 := range attrs.All() {
				if j > i {
					if id2, param2, ok2 := formatSplitSDKey(k2); ok2 && id2 == id {
						dst = formatSDParam(dst, param2, v2)
					}
				}
				j++
			}
			dst = append(dst, ']')
		}
		i++
	}
	return dst
}

// formatSDAttr is one syslog.sd.* attribute and the element it belongs to.
type formatSDAttr struct {
	id, param string
	value     pcommon.Value
	element   int // index of its id in order of first appearance
}

// formatRecordSDGrouped writes the same as formatRecordSDPairwise: each id
// gets its element number from a map, and the attributes are ordered by
// element with a counting sort, which keeps attribute order within one.
func formatRecordSDGrouped(dst []byte, attrs pcommon.Map) []byte {
	var list []formatSDAttr
	elements := make(map[string]int)
	for k, v := range attrs.All() {
		id, param, ok := formatSplitSDKey(k)
		if !ok {
			continue
		}
		e, seen := elements[id]
		if !seen {
			e = len(elements)
			elements[id] = e
		}
		list = append(list, formatSDAttr{id: id, param: param, value: v, element: e})
	}
	next := make([]int, len(elements)+1) // first slot of each element
	for _, a := range list {
		next[a.element+1]++
	}
	for e := 1; e < len(next); e++ {
		next[e] += next[e-1]
	}
	order := make([]int, len(list))
	for i, a := range list {
		order[next[a.element]] = i
		next[a.element]++
	}
	open := -1
	for _, i := range order {
		a := &list[i]
		if a.element != open {
			if open >= 0 {
				dst = append(dst, ']')
			}
			dst = append(dst, '[')
			dst = formatSDName(dst, a.id)
			open = a.element
		}
		dst = formatSDParam(dst, a.param, a.value)
	}
	if open >= 0 {
		dst = append(dst, ']')
	}
	return dst
}
