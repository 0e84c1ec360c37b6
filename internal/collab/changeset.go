package collab

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
)

// ChangeSet is @codemirror/state's ChangeSet in its JSON form
// (ChangeSet.toJSON): a list where a number n keeps n characters, [d]
// deletes d, and [d, "line", ...] replaces d characters with the lines
// joined by "\n" (a line holds no "\r"). Lengths count UTF-16 code
// units, as JavaScript strings do.
type ChangeSet []section

type section struct {
	keep   int      // > 0: keep this many; 0 for a change
	delete int      // characters removed
	insert []uint16 // text put in their place
	change bool
}

// Limits that keep one update from costing the server much.
const (
	maxSections = 100_000
	maxInsert   = 4 << 20 // UTF-16 units in one update
	maxLength   = 1 << 30 // no document is longer: bounds every count, so sums cannot overflow
)

// ErrInvalid marks a change set that does not parse or does not fit the
// document.
var ErrInvalid = errors.New("invalid change set")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ParseChangeSet reads the JSON form.
func ParseChangeSet(raw json.RawMessage) (ChangeSet, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || parts == nil {
		return nil, invalid("not a JSON array")
	}
	if len(parts) > maxSections {
		return nil, invalid("%d sections, at most %d", len(parts), maxSections)
	}
	cs := make(ChangeSet, 0, len(parts))
	inserted := 0
	for i, p := range parts {
		var n int
		if err := json.Unmarshal(p, &n); err == nil {
			if n < 0 || n > maxLength {
				return nil, invalid("section %d keeps %d", i, n)
			}
			cs = append(cs, section{keep: n})
			continue
		}
		var change []json.RawMessage
		if err := json.Unmarshal(p, &change); err != nil || len(change) == 0 {
			return nil, invalid("section %d is neither a number nor a change", i)
		}
		var d int
		if err := json.Unmarshal(change[0], &d); err != nil || d < 0 || d > maxLength {
			return nil, invalid("section %d deletes a bad length", i)
		}
		s := section{delete: d, change: true}
		if len(change) > 1 {
			lines := make([]string, len(change)-1)
			for j, l := range change[1:] {
				if err := json.Unmarshal(l, &lines[j]); err != nil {
					return nil, invalid("section %d line %d is not a string", i, j)
				}
				if strings.ContainsRune(lines[j], '\r') {
					// Line breaks come as separate lines; the text holds "\n" only (eol.go).
					return nil, invalid("section %d line %d holds a carriage return", i, j)
				}
			}
			s.insert = utf16.Encode([]rune(strings.Join(lines, "\n")))
			inserted += len(s.insert)
			if inserted > maxInsert {
				return nil, invalid("inserts more than %d characters", maxInsert)
			}
		}
		cs = append(cs, s)
	}
	return cs, nil
}

// Len is the length of the document cs applies to.
func (cs ChangeSet) Len() int {
	n := 0
	for _, s := range cs {
		n += s.keep + s.delete
	}
	return n
}

// Apply returns doc changed by cs; cs must span the whole document.
func (cs ChangeSet) Apply(doc []uint16) ([]uint16, error) {
	if cs.Len() != len(doc) {
		return nil, invalid("changes a document of length %d, the document has %d", cs.Len(), len(doc))
	}
	out := make([]uint16, 0, len(doc))
	pos := 0
	for _, s := range cs {
		if !s.change {
			out = append(out, doc[pos:pos+s.keep]...)
			pos += s.keep
			continue
		}
		out = append(out, s.insert...)
		pos += s.delete
	}
	return out, nil
}

// NewLen is the length of the document after cs.
func (cs ChangeSet) NewLen() int {
	n := 0
	for _, s := range cs {
		n += s.keep + len(s.insert)
	}
	return n
}

// applyInPlace changes doc, which must have length cs.Len(), without
// copying what stays: each change moves only the text after it.
func (cs ChangeSet) applyInPlace(doc []uint16) []uint16 {
	type change struct {
		at, del int
		ins     []uint16
	}
	var changes []change
	pos := 0
	for _, s := range cs {
		if s.change {
			changes = append(changes, change{pos, s.delete, s.insert})
		}
		pos += s.keep + s.delete
	}
	for i := len(changes) - 1; i >= 0; i-- {
		c := changes[i]
		doc = slices.Replace(doc, c.at, c.at+c.del, c.ins...)
	}
	return doc
}

// MapPos maps a position in the document before cs to the one after, as
// CodeMirror's ChangeDesc.mapPos does: an insertion exactly at pos goes
// after it when assoc < 0 and before it otherwise; a position inside a
// replaced range goes to the range's start (assoc < 0) or its end.
func (cs ChangeSet) MapPos(pos, assoc int) int {
	posA, posB := 0, 0
	for _, s := range cs {
		if !s.change {
			if posA+s.keep > pos {
				return posB + (pos - posA)
			}
			posA += s.keep
			posB += s.keep
			continue
		}
		endA := posA + s.delete
		if endA > pos || endA == pos && assoc < 0 && s.delete == 0 {
			if pos == posA || assoc < 0 {
				return posB
			}
			return posB + len(s.insert)
		}
		posA = endA
		posB += len(s.insert)
	}
	return posB + (pos - posA)
}

// MarshalJSON writes cs in CodeMirror's form.
func (cs ChangeSet) MarshalJSON() ([]byte, error) {
	out := make([]any, len(cs))
	for i, s := range cs {
		if !s.change {
			out[i] = s.keep
			continue
		}
		item := []any{s.delete}
		if len(s.insert) > 0 {
			for _, l := range strings.Split(string(utf16.Decode(s.insert)), "\n") {
				item = append(item, l)
			}
		}
		out[i] = item
	}
	return json.Marshal(out)
}
