package conflict

// Outcome says what applying an incoming version to a replica that holds a
// local version does.
type Outcome int

const (
	// Keep means the local version wins: the incoming change is older, or is
	// the very same write delivered again, and is dropped.
	Keep Outcome = iota
	// Replace means the incoming version wins and overwrites the local one.
	Replace
)

// String names the outcome.
func (o Outcome) String() string {
	if o == Replace {
		return "replace"
	}
	return "keep"
}

// Resolve returns the winner of two versions of the same item under
// last-writer-wins: the greater one in the total order. It is commutative,
// associative and idempotent, which is what lets replicas that apply the same
// changes in different orders, with duplicates, end up identical.
func Resolve(a, b Version) Version {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}

// Decide says whether an incoming version replaces the local one. An
// identical version is a duplicate delivery and is kept, so applying a change
// twice has the effect of applying it once.
func Decide(local, incoming Version) Outcome {
	if incoming.Compare(local) > 0 {
		return Replace
	}
	return Keep
}
