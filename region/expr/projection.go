package expr

import (
	"sort"

	"github.com/globaltables/globaltables/store/attr"
)

// Projection is a parsed ProjectionExpression: the document paths to return.
// It holds no reference to the Context it was parsed with.
type Projection struct {
	paths []Path
}

// ParseProjection parses a ProjectionExpression, a comma-separated list of
// document paths, resolving its placeholders through c and marking them
// used. Errors are *Error with DynamoDB's message.
func ParseProjection(c *Context, s string) (*Projection, error) {
	if err := prepare(KindProjection, s); err != nil {
		return nil, err
	}
	p := newParser(KindProjection, s, nil)
	var raws []rawPath
	for {
		raw, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		raws = append(raws, raw)
		if p.peek().kind != tComma {
			break
		}
		p.pos++
	}
	if p.peek().kind != tEOF {
		return nil, p.syntaxError()
	}
	// DynamoDB's order: reserved word, undefined name, overlap, conflict.
	var reserved, names, overlap, conflict string
	pr := &Projection{}
	for _, raw := range raws {
		path, msgs := resolvePath(c, raw)
		set(&reserved, msgs.reserved)
		set(&names, msgs.undefined)
		pr.paths = append(pr.paths, path)
	}
	for j, q := range pr.paths {
		for _, p := range pr.paths[:j] {
			switch pathRelation(p, q) {
			case pathsOverlap:
				set(&overlap, overlapMsg(p, q))
			case pathsConflict:
				set(&conflict, conflictMsg(p, q))
			}
		}
	}
	for _, m := range []string{reserved, names, overlap, conflict} {
		if m != "" {
			return nil, newError("Invalid %s: %s", KindProjection, m)
		}
	}
	return pr, nil
}

// Paths returns the projected paths in the order they were written.
func (p *Projection) Paths() []Path {
	out := make([]Path, len(p.paths))
	for i, q := range p.paths {
		out[i] = q.clone()
	}
	return out
}

// Apply returns the item restricted to the projection's paths; see
// ProjectPaths.
func (p *Projection) Apply(it attr.Item) attr.Item { return ProjectPaths(it, p.paths) }

// ProjectPaths returns it restricted to paths, as DynamoDB projects items:
// nested paths keep their structure (a.b keeps a map a holding only b),
// list elements keep their relative order but are compacted (a[1], a[3] of a
// four-element list give a two-element list), and paths that lead nowhere
// are left out, along with any map or list that would be left empty by
// that. The result shares no memory with it. Overlapping paths are allowed:
// the shorter one wins.
func ProjectPaths(it attr.Item, paths []Path) attr.Item {
	root := &projNode{}
	for _, p := range paths {
		if len(p) > 0 && !p[0].IsIndex {
			root.insert(p)
		}
	}
	out := attr.Item{}
	for name, c := range root.names {
		if v, ok := it[name]; ok {
			if pv, ok := c.project(v); ok {
				out[name] = pv
			}
		}
	}
	return out
}

// projNode is a node of a projection tree. A leaf takes the whole value;
// an inner node takes some of a map's keys or some of a list's elements.
type projNode struct {
	leaf  bool
	names map[string]*projNode
	idxs  map[int]*projNode
}

func (n *projNode) insert(p Path) {
	for _, e := range p {
		if n.leaf {
			return // a shorter path already takes the whole value
		}
		var c *projNode
		if e.IsIndex {
			if n.idxs == nil {
				n.idxs = map[int]*projNode{}
			}
			if c = n.idxs[e.Index]; c == nil {
				c = &projNode{}
				n.idxs[e.Index] = c
			}
		} else {
			if n.names == nil {
				n.names = map[string]*projNode{}
			}
			if c = n.names[e.Name]; c == nil {
				c = &projNode{}
				n.names[e.Name] = c
			}
		}
		n = c
	}
	n.leaf, n.names, n.idxs = true, nil, nil
}

// project returns the part of v that n selects, or ok=false if nothing.
func (n *projNode) project(v attr.Value) (attr.Value, bool) {
	if n.leaf {
		return v.Clone(), true
	}
	switch v.Type {
	case attr.TypeM:
		m := map[string]attr.Value{}
		for name, c := range n.names {
			if cv, ok := v.M[name]; ok {
				if pv, ok := c.project(cv); ok {
					m[name] = pv
				}
			}
		}
		if len(m) > 0 {
			return attr.Map(m), true
		}
	case attr.TypeL:
		idxs := make([]int, 0, len(n.idxs))
		for i := range n.idxs {
			if i < len(v.L) {
				idxs = append(idxs, i)
			}
		}
		sort.Ints(idxs)
		var l []attr.Value
		for _, i := range idxs {
			if pv, ok := n.idxs[i].project(v.L[i]); ok {
				l = append(l, pv)
			}
		}
		if len(l) > 0 {
			return attr.List(l), true
		}
	}
	return attr.Value{}, false
}
