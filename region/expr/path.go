package expr

import (
	"strconv"
	"strings"

	"github.com/globaltables/globaltables/store/attr"
)

// Path is a document path with its placeholders resolved: a.b[2].c is
// {a} {b} {[2]} {c}. The first element is always a name.
type Path []PathElem

// PathElem is one step of a Path: a map key (Name) or a list index (Index,
// with IsIndex set).
type PathElem struct {
	Name    string
	Index   int
	IsIndex bool
}

// String returns the path in expression syntax, a.b[2].c. Names are printed
// as they are, even when they contain dots or brackets, so the result is for
// people, not for parsing.
func (p Path) String() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.IsIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
		case i > 0:
			b.WriteByte('.')
			b.WriteString(e.Name)
		default:
			b.WriteString(e.Name)
		}
	}
	return b.String()
}

// docString returns the path as DynamoDB prints it in messages:
// [a, b, [2], c].
func (p Path) docString() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.IsIndex {
			parts[i] = "[" + strconv.Itoa(e.Index) + "]"
		} else {
			parts[i] = e.Name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// equal reports whether p and q are the same path.
func (p Path) equal(q Path) bool {
	if len(p) != len(q) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// clone returns a copy of p that shares no memory with it.
func (p Path) clone() Path { return append(Path(nil), p...) }

// lookup returns the value at p in it, or ok=false when the path does not
// lead to a value: a missing attribute or key, an index past the end of a
// list, or a step into a value of the wrong type.
func lookup(it attr.Item, p Path) (attr.Value, bool) {
	if len(p) == 0 || p[0].IsIndex {
		return attr.Value{}, false
	}
	v, ok := it[p[0].Name]
	if !ok {
		return attr.Value{}, false
	}
	for _, e := range p[1:] {
		switch {
		case e.IsIndex && v.Type == attr.TypeL:
			if e.Index >= len(v.L) {
				return attr.Value{}, false
			}
			v = v.L[e.Index]
		case !e.IsIndex && v.Type == attr.TypeM:
			if v, ok = v.M[e.Name]; !ok {
				return attr.Value{}, false
			}
		default:
			return attr.Value{}, false
		}
	}
	return v, true
}
