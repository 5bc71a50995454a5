package conflict

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// Context is an item's causal history: for each region, the newest version
// written by that region that the current value of the item descends from
// or has already been weighed against. Each write carries the context its
// writer had, so a receiver can tell a write that knowingly replaced the
// local value (succession) from one whose writer never saw it (a conflict).
//
// Last-writer-wins never consults the context; it only decides which
// overwrites are recorded as conflicts. A per-item vector of one entry per
// region is exact where a single "previous version" pointer is not: a chain
// of successive writes from different regions can arrive out of order, and a
// pointer cannot tell "replaced something newer than you" from "replaced
// you".
type Context map[string]Version

// Covers reports whether the history includes v: a version from v's region
// at least as new as v. The zero version is covered by every context.
func (c Context) Covers(v Version) bool {
	if v.IsZero() {
		return true
	}
	have, ok := c[v.Region]
	return ok && have.Compare(v) >= 0
}

// With returns a copy of c that also includes v.
func (c Context) With(v Version) Context {
	out := make(Context, len(c)+1)
	for r, x := range c {
		out[r] = x
	}
	if !v.IsZero() && !out.Covers(v) {
		out[v.Region] = v
	}
	return out
}

// Merge returns the union of two histories: for each region, the newer
// entry. It is commutative, associative and idempotent.
func (c Context) Merge(o Context) Context {
	out := make(Context, len(c)+len(o))
	for r, x := range c {
		out[r] = x
	}
	for r, x := range o {
		if have, ok := out[r]; !ok || have.Compare(x) < 0 {
			out[r] = x
		}
	}
	return out
}

// Equal reports whether two contexts hold the same entries.
func (c Context) Equal(o Context) bool {
	if len(c) != len(o) {
		return false
	}
	for r, x := range c {
		if y, ok := o[r]; !ok || x != y {
			return false
		}
	}
	return true
}

// Classify compares a local value with an incoming one for the same item,
// each with its version and its context (which includes the version itself),
// and says what last-writer-wins does with them.
func Classify(local Version, localCtx Context, incoming Version, incomingCtx Context) Verdict {
	switch {
	case incoming == local:
		return Verdict{Outcome: Keep, Duplicate: true}
	case local.IsZero():
		return Verdict{Outcome: Replace}
	case incomingCtx.Covers(local):
		// The incoming writer had seen the local value: succession.
		return Verdict{Outcome: Decide(local, incoming)}
	case localCtx.Covers(incoming):
		// The local value already descends from the incoming one: a late,
		// old delivery.
		return Verdict{Outcome: Keep}
	}
	return Verdict{Outcome: Decide(local, incoming), Concurrent: true}
}

// Verdict is the result of Classify.
type Verdict struct {
	// Outcome says whether the incoming value replaces the local one.
	Outcome Outcome
	// Concurrent is set when neither writer had seen the other's write: the
	// loser is an overwritten write and must be recorded as a conflict.
	Concurrent bool
	// Duplicate is set when the incoming value is the local one again.
	Duplicate bool
}

// AppendBinary appends c in a deterministic binary form: the number of
// entries, then each version (AppendBinary) in region order.
func (c Context) AppendBinary(dst []byte) []byte {
	regions := make([]string, 0, len(c))
	for r := range c {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	dst = binary.AppendUvarint(dst, uint64(len(regions)))
	for _, r := range regions {
		dst = c[r].AppendBinary(dst)
	}
	return dst
}

// maxContextEntries bounds a decoded context: there is one entry per region.
const maxContextEntries = 1024

// DecodeContext decodes a context written by AppendBinary from the front of
// b and returns it with the number of bytes used.
func DecodeContext(b []byte) (Context, int, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxContextEntries {
		return nil, 0, fmt.Errorf("%w: bad context length", ErrBadVersion)
	}
	used := k
	c := make(Context, n)
	for i := uint64(0); i < n; i++ {
		v, m, err := DecodeVersion(b[used:])
		if err != nil {
			return nil, 0, err
		}
		used += m
		if _, dup := c[v.Region]; dup {
			return nil, 0, fmt.Errorf("%w: region %q twice in context", ErrBadVersion, v.Region)
		}
		c[v.Region] = v
	}
	return c, used, nil
}
