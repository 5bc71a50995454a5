//go:build !brokenreplicator

package replicator

import "github.com/globaltables/globaltables/store"

// injectFault returns the changes a link applies. In a normal build it is
// the identity; a build with the brokenreplicator tag replaces it with one
// that loses changes, so that tests can check that drills catch a broken
// replicator (see fault_broken.go).
func injectFault(changes []*store.Change) []*store.Change { return changes }
