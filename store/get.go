package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/store/attr"
)

// GetItem is Get for readers that serve the item and not its history
// (GetItem, BatchGetItem, a query's fetch of base items): the returned
// Record's Context is nil. Decoding a context builds a map of versions that
// these readers would drop at once: 3 of a GetItem's 44 allocations and a
// seventh of its bytes.
func (db *DB) GetItem(t *Table, key attr.Item) (Record, error) {
	return db.readRow(t, key, false)
}

// readRow reads the row of key in a read-only transaction of its own,
// with its context if withContext.
func (db *DB) readRow(t *Table, key attr.Item, withContext bool) (Record, error) {
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
	return getRowWith(txn, k, withContext)
}

// getRowWith reads the row at k; an absent row is the zero Record.
func getRowWith(txn *badger.Txn, k []byte, withContext bool) (Record, error) {
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Record{}, nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("get row: %w", err)
	}
	return itemRowWith(item, withContext)
}
