package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/store/attr"
)

// GetItem is Get for readers that serve the item and not its history
// (GetItem, BatchGetItem, a query's fetch of base items): the returned
// Record's Context is nil. Decoding a context builds a map of versions,
// which was a twentieth of a GetItem's CPU and a fifth of its allocations.
func (db *DB) GetItem(t *Table, key attr.Item) (Record, error) {
	if err := db.enter(); err != nil {
		return Record{}, err
	}
	defer db.exit()
	k, _, _, err := tableKey(t, key)
	if err != nil {
		return Record{}, err
	}
	txn := db.bdb.NewTransaction(false)
	defer txn.Discard()
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Record{}, nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("get row: %w", err)
	}
	return itemRowWith(item, false)
}
