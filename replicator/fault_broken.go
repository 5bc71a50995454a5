//go:build brokenreplicator

package replicator

import (
	"sync/atomic"

	"github.com/globaltables/globaltables/store"
)

// dropped counts changes across links, so that every tenth is lost.
var dropped atomic.Uint64

// injectFault is the broken build's: it silently drops every tenth change
// a link applies, while the cursor still moves past it. Nothing but a test
// of the drills' verdict should ever build it.
func injectFault(changes []*store.Change) []*store.Change {
	out := changes[:0:0]
	for _, c := range changes {
		if dropped.Add(1)%10 != 0 {
			out = append(out, c)
		}
	}
	return out
}
