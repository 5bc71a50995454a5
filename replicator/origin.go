package replicator

import (
	"errors"
	"fmt"

	"github.com/globaltables/globaltables/store"
)

// ErrForeignOrigin marks a record whose origin does not match the stream
// it was read from: a forgery, or a misconfigured NATS that lets one
// region publish into another's subjects. Such a record is never applied.
var ErrForeignOrigin = errors.New("replicator: record's origin does not match its stream")

// CheckOrigin reports, with ErrForeignOrigin, whether a record read from
// source's stream could not have been written by source: an item change
// whose version names another region. Control records carry no origin of
// their own (their replica entries legitimately hold other regions'
// versions); their subject vouches for them (CheckSubject).
func CheckOrigin(source string, ch *store.Change) error {
	if ch.Kind == store.ChangeItem && ch.Version.Region != source {
		return fmt.Errorf("%w: change to table %q made by %q read from %s's stream", ErrForeignOrigin, ch.Table, ch.Version.Region, source)
	}
	return nil
}

// CheckSubject is CheckOrigin plus the subject the record arrived on, which
// must be the one source publishes that record on.
func CheckSubject(source, subject string, ch *store.Change) error {
	if want := ChangeSubject(source, ch); subject != want {
		return fmt.Errorf("%w: record of table %q on subject %s, want %s", ErrForeignOrigin, ch.Table, subject, want)
	}
	return CheckOrigin(source, ch)
}
