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
//
// A change set keeps the sections it was sent with, and the operations
// below cut and join sections exactly where CodeMirror does: how a
// change is cut decides how positions and other changes map through it,
// and every editor must map them as the server does.
type ChangeSet []section

// section covers len units of the document before the change: kept as
// they are when ins < 0, else replaced by ins units, text.
type section struct {
	len  int
	ins  int
	text []uint16
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
	// A section that neither covers nor inserts anything is refused:
	// CodeMirror never makes one, and composing over one can count a
	// replacement twice.
	cs := make(ChangeSet, 0, len(parts))
	inserted := 0
	for i, p := range parts {
		var n int
		if err := json.Unmarshal(p, &n); err == nil {
			if n <= 0 || n > maxLength {
				return nil, invalid("section %d keeps %d", i, n)
			}
			cs = append(cs, section{len: n, ins: -1})
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
		s := section{len: d}
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
			s.text = utf16.Encode([]rune(strings.Join(lines, "\n")))
			inserted += len(s.text)
			if inserted > maxInsert {
				return nil, invalid("inserts more than %d characters", maxInsert)
			}
		}
		s.ins = len(s.text)
		if s.len == 0 && s.ins == 0 {
			return nil, invalid("section %d changes nothing", i)
		}
		cs = append(cs, s)
	}
	return cs, nil
}

// Len is the length of the document cs applies to.
func (cs ChangeSet) Len() int {
	n := 0
	for _, s := range cs {
		n += s.len
	}
	return n
}

// NewLen is the length of the document after cs.
func (cs ChangeSet) NewLen() int {
	n := 0
	for _, s := range cs {
		if s.ins < 0 {
			n += s.len
		} else {
			n += s.ins
		}
	}
	return n
}

// empty reports whether cs changes nothing, as CodeMirror's
// ChangeDesc.empty decides it.
func (cs ChangeSet) empty() bool {
	return len(cs) == 0 || len(cs) == 1 && cs[0].ins < 0
}

// Apply returns doc changed by cs; cs must span the whole document.
func (cs ChangeSet) Apply(doc []uint16) ([]uint16, error) {
	if cs.Len() != len(doc) {
		return nil, invalid("changes a document of length %d, the document has %d", cs.Len(), len(doc))
	}
	out := make([]uint16, 0, cs.NewLen())
	pos := 0
	for _, s := range cs {
		if s.ins < 0 {
			out = append(out, doc[pos:pos+s.len]...)
		} else {
			out = append(out, s.text...)
		}
		pos += s.len
	}
	return out, nil
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
		if s.ins >= 0 {
			changes = append(changes, change{pos, s.len, s.text})
		}
		pos += s.len
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
		endA := posA + s.len
		if s.ins < 0 {
			if endA > pos {
				return posB + (pos - posA)
			}
			posB += s.len
		} else {
			if endA > pos || endA == pos && assoc < 0 && s.len == 0 {
				if pos == posA || assoc < 0 {
					return posB
				}
				return posB + s.ins
			}
			posB += s.ins
		}
		posA = endA
	}
	return posB + (pos - posA)
}

// Map returns cs moved over other, a change of the same document, so
// that it applies after other (CodeMirror's ChangeSet.map). Where both
// insert at one place, before puts cs's insertion first; else other's
// goes first. A part of cs that other deleted is gone; text other
// inserted is kept.
//
// With CodeMirror's guarantee: a.Compose(b.Map(a, false)) and
// b.Compose(a.Map(b, true)) make the same document.
func (cs ChangeSet) Map(other ChangeSet, before bool) ChangeSet {
	mustMatch(cs.Len(), other.Len())
	if other.empty() {
		return cs
	}
	var out ChangeSet
	a, b := newCursor(cs), newCursor(other)
	placed := -1 // the last section of cs whose text is in out
	for !a.done() || !b.done() {
		switch {
		case a.done() && b.len > 0 || b.done() && a.len > 0:
			panic("collab: change set lengths do not match")
		case a.ins == -1 && b.ins == -1:
			// Both keep: so does the result.
			n := min(a.len, b.len)
			out.add(n, -1, false)
			a.forward(n)
			b.forward(n)
		case b.ins >= 0 && (a.ins < 0 || placed == a.i || a.off == 0 && (b.len < a.len || b.len == a.len && !before)):
			// other's change comes first (by where it starts, then by
			// its length, then by before): what it inserts is kept, and
			// the part of cs it covers is dropped, save insertions of cs
			// that lie wholly inside it, which stay at its end.
			out.add(b.ins, -1, false)
			for n := b.len; n > 0; {
				piece := min(a.len, n)
				if a.ins >= 0 && placed < a.i && a.len <= piece {
					out.add(0, a.ins, false)
					out.addText(a.text())
					placed = a.i
				}
				a.forward(piece)
				n -= piece
			}
			b.next()
		case a.ins >= 0:
			// cs's change, over what other keeps or deletes up to other's
			// next insertion or replacement inside it.
			n, left := 0, a.len
			for left > 0 {
				if b.ins == -1 {
					piece := min(left, b.len)
					n += piece
					left -= piece
					b.forward(piece)
				} else if b.ins == 0 && b.len < left {
					left -= b.len
					b.next()
				} else {
					break
				}
			}
			if placed < a.i {
				out.add(n, a.ins, false)
				out.addText(a.text())
			} else {
				out.add(n, 0, false)
			}
			placed = a.i
			a.forward(a.len - left)
		default:
			panic("collab: change set lengths do not match")
		}
	}
	return out
}

// Compose returns the change of cs followed by next, which applies to
// the document cs makes (CodeMirror's ChangeSet.compose).
func (cs ChangeSet) Compose(next ChangeSet) ChangeSet {
	mustMatch(cs.NewLen(), next.Len())
	if cs.empty() {
		return next
	}
	if next.empty() {
		return cs
	}
	var out ChangeSet
	a, b := newCursor(cs), newCursor(next)
	// open: the last section of out is a change still being added to,
	// and what follows of the same change joins it.
	for open := false; !a.done() || !b.done(); {
		switch {
		case a.ins == 0: // deleted by cs: next never saw it
			out.add(a.len, 0, open)
			a.next()
		case b.len == 0 && !b.done(): // inserted by next
			out.add(0, b.ins, open)
			out.addText(b.text())
			b.next()
		case a.done() || b.done():
			panic("collab: change set lengths do not match")
		default:
			// A piece of the middle document: what cs made of it, then
			// what next does with it.
			n, sections := min(a.len2(), b.len), len(out)
			switch {
			case a.ins < 0:
				ins := b.ins
				if b.ins >= 0 && b.off > 0 {
					ins = 0 // the rest of a replacement whose text went in already
				}
				out.add(n, ins, open)
				if ins > 0 {
					out.addText(b.text())
				}
			case b.ins < 0:
				out.add(a.consumed(), n, open)
				out.addText(a.text()[a.off : a.off+n])
			default:
				ins := b.ins
				if b.off > 0 {
					ins = 0
				}
				out.add(a.consumed(), ins, open)
				if b.off == 0 {
					out.addText(b.text())
				}
			}
			open = (a.ins > n || b.ins >= 0 && b.len > n) && (open || len(out) > sections)
			a.forward2(n)
			b.forward(n)
		}
	}
	return out
}

func mustMatch(a, b int) {
	if a != b {
		panic(fmt.Sprintf("collab: change sets of documents of length %d and %d", a, b))
	}
}

// add appends a section, joining it to the last one where CodeMirror
// does: a keep to a keep, a deletion to a deletion, an insertion to an
// insertion, and, when join, anything to the change being built. Nothing
// is added for an empty keep or deletion.
func (cs *ChangeSet) add(n, ins int, join bool) {
	if n == 0 && ins <= 0 {
		return
	}
	if k := len(*cs) - 1; k >= 0 {
		last := &(*cs)[k]
		switch {
		case ins <= 0 && ins == last.ins:
			last.len += n
			return
		case n == 0 && last.len == 0:
			last.ins += ins
			return
		case join:
			last.len += n
			last.ins += ins
			return
		}
	}
	*cs = append(*cs, section{len: n, ins: ins})
}

// addText appends inserted text to the last section.
func (cs ChangeSet) addText(text []uint16) {
	if len(text) == 0 {
		return
	}
	last := &cs[len(cs)-1]
	if len(last.text) == 0 {
		last.text = text[:len(text):len(text)] // shared: a later append copies
	} else {
		last.text = slices.Concat(last.text, text)
	}
}

// cursor walks a change set's sections, a piece at a time.
type cursor struct {
	cs  ChangeSet
	i   int // the section under the cursor; len(cs) when done
	len int // what is left of its length before
	ins int // -1 kept; else what is left of its replacement's length (Compose) or all of it (Map)
	off int // how far into the section the cursor is
}

func newCursor(cs ChangeSet) *cursor {
	c := &cursor{cs: cs, i: -1}
	c.next()
	return c
}

func (c *cursor) next() {
	if c.i < len(c.cs) {
		c.i++
	}
	c.off = 0
	if c.i < len(c.cs) {
		c.len, c.ins = c.cs[c.i].len, c.cs[c.i].ins
	} else {
		c.len, c.ins = 0, -2
	}
}

func (c *cursor) done() bool { return c.i >= len(c.cs) }

// len2 is what is left of the section in the document after it.
func (c *cursor) len2() int {
	if c.ins < 0 {
		return c.len
	}
	return c.ins
}

func (c *cursor) text() []uint16 {
	if c.done() {
		return nil
	}
	return c.cs[c.i].text
}

// consumed is the length before of what a change adds when met first
// (off 0): all of it; met again, it was added already.
func (c *cursor) consumed() int {
	if c.off > 0 {
		return 0
	}
	return c.len
}

// forward moves n units on in the document before.
func (c *cursor) forward(n int) {
	if n == c.len {
		c.next()
		return
	}
	c.len -= n
	c.off += n
}

// forward2 moves n units on in the document after.
func (c *cursor) forward2(n int) {
	switch {
	case c.ins < 0:
		c.forward(n)
	case n == c.ins:
		c.next()
	default:
		c.ins -= n
		c.off += n
	}
}

// MarshalJSON writes cs in CodeMirror's form.
func (cs ChangeSet) MarshalJSON() ([]byte, error) {
	out := make([]any, len(cs))
	for i, s := range cs {
		switch {
		case s.ins < 0:
			out[i] = s.len
		case s.ins == 0:
			out[i] = []any{s.len}
		default:
			item := []any{s.len}
			for _, l := range strings.Split(string(utf16.Decode(s.text)), "\n") {
				item = append(item, l)
			}
			out[i] = item
		}
	}
	return json.Marshal(out)
}
