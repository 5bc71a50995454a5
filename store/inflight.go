package store

import (
	"sync"

	"github.com/globaltables/globaltables/conflict"
)

// inflight tracks the versions minted by local write transactions that have
// not committed yet, so that each change record can carry a floor
// (Change.Floor): a version below which every write of this region that will
// ever commit has already been numbered. Versions are minted inside a
// transaction and numbered at its commit, so without it a reader of the
// stream could not tell from a record's version alone which earlier-minted
// writes are still to come.
type inflight struct {
	mu       sync.Mutex // guards versions, last; taken around minting
	versions map[conflict.Version]struct{}
	last     conflict.Version // the greatest version minted
}

// mint mints a version with next and records it as in flight, under the
// lock, so that no floor is computed between the two.
func (f *inflight) mint(next func() conflict.Version) conflict.Version {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := next()
	if f.versions == nil {
		f.versions = map[conflict.Version]struct{}{}
	}
	f.versions[v] = struct{}{}
	if v.Compare(f.last) > 0 {
		f.last = v
	}
	return v
}

// done forgets vs: their transaction has been numbered or was abandoned.
func (f *inflight) done(vs []conflict.Version) {
	if len(vs) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range vs {
		delete(f.versions, v)
	}
}

// floor returns the smallest version still in flight other than own (the
// transaction being numbered), or, if there is none, the successor of the
// greatest version minted: every version below it that ever commits is
// numbered by now. The caller holds commitMu.
func (f *inflight) floor(own []conflict.Version) conflict.Version {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.last
	fl.Logical++
	for v := range f.versions {
		mine := false
		for _, o := range own {
			if o == v {
				mine = true
				break
			}
		}
		if !mine && v.Compare(fl) < 0 {
			fl = v
		}
	}
	return fl
}
