package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/store/attr"
)

// Table and index statuses, as DynamoDB names them.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusUpdating = "UPDATING"
	StatusDeleting = "DELETING"
)

// Projection types, as DynamoDB names them.
const (
	ProjectionAll      = "ALL"
	ProjectionKeysOnly = "KEYS_ONLY"
	ProjectionInclude  = "INCLUDE"
)

// KeyElement is one key attribute: its name and type (S, N or B).
type KeyElement struct {
	Name string
	Type attr.Type
}

// Projection says which attributes an index entry carries besides the keys.
type Projection struct {
	// Type is ProjectionAll, ProjectionKeysOnly or ProjectionInclude. Empty
	// means ALL.
	Type string
	// NonKeyAttributes are the extra attributes of an INCLUDE projection.
	NonKeyAttributes []string
}

// Index is a global (GSI) or local (LSI) secondary index.
type Index struct {
	Name  string
	Local bool
	// Hash is the index's partition key; for an LSI, the table's.
	Hash       KeyElement
	Range      *KeyElement
	Projection Projection
	// Status is StatusCreating while BackfillIndex builds the index,
	// StatusActive after. Writes maintain every index whose status is not
	// StatusDeleting.
	Status                      string
	ReadCapacity, WriteCapacity int64
	// ID is assigned by the store and is part of the index's entry keys; it
	// is never reused within a table.
	ID uint32
}

// Table is a table's metadata. The store interprets the names, key schema,
// indexes and ID; the other fields are kept for the API layer.
//
// A *Table returned by the DB is shared: treat it as immutable (use Clone to
// derive a modified copy).
type Table struct {
	Name string
	// ID is assigned by CreateTable and prefixes the table's keys, so a table
	// dropped and re-created under the same name never sees the old rows.
	ID                   uint64
	Hash                 KeyElement
	Range                *KeyElement
	AttributeDefinitions []KeyElement
	GSIs, LSIs           []Index
	BillingMode          string
	ReadCapacity         int64
	WriteCapacity        int64
	Status               string
	CreatedAt            time.Time
	TTLAttribute         string
	TTLEnabled           bool
	// Stream is the table's enabled stream, nil without one (stream.go).
	Stream *StreamSpec `json:",omitempty"`
	// Extra holds free-form settings of the API layer (stream
	// specification, tags, replicas...).
	Extra map[string]string
}

// Clone returns a deep copy of t.
func (t *Table) Clone() *Table {
	if t == nil {
		return nil
	}
	c := *t
	if t.Range != nil {
		r := *t.Range
		c.Range = &r
	}
	if t.Stream != nil {
		st := *t.Stream
		c.Stream = &st
	}
	c.AttributeDefinitions = slices.Clone(t.AttributeDefinitions)
	c.GSIs = cloneIndexes(t.GSIs)
	c.LSIs = cloneIndexes(t.LSIs)
	if t.Extra != nil {
		c.Extra = make(map[string]string, len(t.Extra))
		for k, v := range t.Extra {
			c.Extra[k] = v
		}
	}
	return &c
}

func cloneIndexes(ixs []Index) []Index {
	if ixs == nil {
		return nil
	}
	out := make([]Index, len(ixs))
	for i, ix := range ixs {
		out[i] = ix
		if ix.Range != nil {
			r := *ix.Range
			out[i].Range = &r
		}
		out[i].Projection.NonKeyAttributes = slices.Clone(ix.Projection.NonKeyAttributes)
	}
	return out
}

// Index returns the GSI or LSI called name.
func (t *Table) Index(name string) (*Index, bool) {
	for i := range t.GSIs {
		if t.GSIs[i].Name == name {
			return &t.GSIs[i], true
		}
	}
	for i := range t.LSIs {
		if t.LSIs[i].Name == name {
			return &t.LSIs[i], true
		}
	}
	return nil, false
}

func (t *Table) indexByID(id uint32) *Index {
	for i := range t.GSIs {
		if t.GSIs[i].ID == id {
			return &t.GSIs[i]
		}
	}
	for i := range t.LSIs {
		if t.LSIs[i].ID == id {
			return &t.LSIs[i]
		}
	}
	return nil
}

// maintained returns the indexes that writes must keep up to date.
func (t *Table) maintained() []*Index {
	var out []*Index
	for _, ixs := range [][]Index{t.GSIs, t.LSIs} {
		for i := range ixs {
			if ixs[i].Status != StatusDeleting {
				out = append(out, &ixs[i])
			}
		}
	}
	return out
}

func (t *Table) schema() keySchema { return keySchema{hash: t.Hash, rng: t.Range} }

func (ix *Index) schema() keySchema { return keySchema{hash: ix.Hash, rng: ix.Range} }

// cachedTable is a table's metadata and the Badger version of its key, which
// lets a transaction that reads the key reuse the decoded table.
type cachedTable struct {
	t   *Table
	ver uint64
}

// validKeyType reports whether t can be a key attribute's type.
func validKeyType(t attr.Type) bool {
	return t == attr.TypeS || t == attr.TypeN || t == attr.TypeB
}

func validateKeyElement(what string, el KeyElement) error {
	if el.Name == "" {
		return fmt.Errorf("%w: %s has no name", ErrInvalidTable, what)
	}
	if !validKeyType(el.Type) {
		return fmt.Errorf("%w: %s %s has type %s, want S, N or B", ErrInvalidTable, what, el.Name, el.Type)
	}
	return nil
}

// validateTable checks what the store relies on; DynamoDB's finer rules
// (name patterns, limits) are the API layer's.
func validateTable(t *Table) error {
	if t == nil || t.Name == "" {
		return fmt.Errorf("%w: no name", ErrInvalidTable)
	}
	if err := validateKeyElement("hash key", t.Hash); err != nil {
		return err
	}
	if t.Range != nil {
		if err := validateKeyElement("range key", *t.Range); err != nil {
			return err
		}
		if t.Range.Name == t.Hash.Name {
			return fmt.Errorf("%w: hash and range keys are both %s", ErrInvalidTable, t.Hash.Name)
		}
	}
	names := make(map[string]bool)
	ids := make(map[uint32]bool)
	for _, ixs := range [][]Index{t.GSIs, t.LSIs} {
		for _, ix := range ixs {
			if ix.Name == "" {
				return fmt.Errorf("%w: index without a name", ErrInvalidTable)
			}
			if names[ix.Name] {
				return fmt.Errorf("%w: two indexes named %s", ErrInvalidTable, ix.Name)
			}
			names[ix.Name] = true
			if ix.ID != 0 {
				if ids[ix.ID] {
					return fmt.Errorf("%w: two indexes with ID %d", ErrInvalidTable, ix.ID)
				}
				ids[ix.ID] = true
			}
			if err := validateKeyElement("index "+ix.Name+" hash key", ix.Hash); err != nil {
				return err
			}
			if ix.Range != nil {
				if err := validateKeyElement("index "+ix.Name+" range key", *ix.Range); err != nil {
					return err
				}
			}
			if ix.Local && ix.Hash != t.Hash {
				return fmt.Errorf("%w: local index %s must share the table's hash key", ErrInvalidTable, ix.Name)
			}
			switch ix.Projection.Type {
			case "", ProjectionAll, ProjectionKeysOnly, ProjectionInclude:
			default:
				return fmt.Errorf("%w: index %s has projection %q", ErrInvalidTable, ix.Name, ix.Projection.Type)
			}
		}
	}
	return nil
}

func encodeTable(t *Table) ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encode table %s: %w", t.Name, err)
	}
	return b, nil
}

func decodeTable(b []byte) (*Table, error) {
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%w: table metadata: %w", ErrCorrupt, err)
	}
	return &t, nil
}

// loadTables fills the table cache from the metadata rows.
func (db *DB) loadTables() error {
	return db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{prefixMeta, metaTable}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			b, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("load table %q: %w", item.Key()[2:], err)
			}
			t, err := decodeTable(b)
			if err != nil {
				return fmt.Errorf("load table %q: %w", item.Key()[2:], err)
			}
			db.tables[t.Name] = &cachedTable{t: t, ver: item.Version()}
		}
		return nil
	})
}

// readTable reads a table's metadata inside txn, so that the metadata key
// joins txn's conflict set. It reuses the cached table when its version
// matches the one txn sees.
func (db *DB) readTable(txn *badger.Txn, name string) (*Table, error) {
	item, err := txn.Get(metaTableKey(name))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrTableNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", name, err)
	}
	db.mu.RLock()
	c := db.tables[name]
	db.mu.RUnlock()
	if c != nil && c.ver == item.Version() {
		return c.t, nil
	}
	b, err := item.ValueCopy(nil)
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", name, err)
	}
	return decodeTable(b)
}

// refreshTable reloads one table's cache entry after a metadata commit.
// Callers hold metaMu, so refreshes happen in commit order.
func (db *DB) refreshTable(name string) error {
	var c *cachedTable
	err := db.bdb.View(func(txn *badger.Txn) error {
		item, err := txn.Get(metaTableKey(name))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		b, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		t, err := decodeTable(b)
		if err != nil {
			return err
		}
		c = &cachedTable{t: t, ver: item.Version()}
		return nil
	})
	if err != nil {
		return fmt.Errorf("refresh table %s: %w", name, err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if c == nil {
		delete(db.tables, name)
	} else {
		db.tables[name] = c
	}
	return nil
}

// nextID reads, increments and writes a counter key inside txn. IDs start
// at 1.
func nextID(txn *badger.Txn, key []byte) (uint64, error) {
	var n uint64
	item, err := txn.Get(key)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return 0, err
	default:
		if err := item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("%w: counter of %d bytes", ErrCorrupt, len(v))
			}
			n = binary.BigEndian.Uint64(v)
			return nil
		}); err != nil {
			return 0, err
		}
	}
	n++
	return n, txn.Set(key, binary.BigEndian.AppendUint64(nil, n))
}

// assignIndexIDs gives every index without an ID a fresh one, and a status
// to every index without one.
func assignIndexIDs(txn *badger.Txn, t *Table, status string) error {
	for _, ixs := range [][]Index{t.GSIs, t.LSIs} {
		for i := range ixs {
			if ixs[i].ID == 0 {
				id, err := nextID(txn, keyNextIndexID)
				if err != nil {
					return fmt.Errorf("assign index id: %w", err)
				}
				if id > uint64(^uint32(0)) {
					return fmt.Errorf("%w: index IDs exhausted", ErrInvalidTable)
				}
				ixs[i].ID = uint32(id)
				if ixs[i].Status == "" {
					ixs[i].Status = status
				}
			}
			if ixs[i].Status == "" {
				ixs[i].Status = StatusActive
			}
		}
	}
	return nil
}

// CreateTable stores t's metadata durably. It assigns t.ID and the IDs of its
// indexes, defaults t.Status and index statuses to ACTIVE (a new table is
// empty, so its indexes need no backfill) and t.CreatedAt to now, and writes
// them back into *t.
func (db *DB) CreateTable(t *Table) error {
	return db.CreateTableLogged(t, nil)
}

// CreateTableLogged is CreateTable that also logs a control record carrying
// payload (Change.Kind ChangeControl) in the same transaction, so that the
// table exists if and only if the other regions will hear of it. A nil
// payload logs nothing.
func (db *DB) CreateTableLogged(t *Table, payload []byte) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	if err := validateTable(t); err != nil {
		return err
	}
	db.metaMu.Lock()
	defer db.metaMu.Unlock()

	nt := t.Clone()
	err := db.metaUpdate(func(tx *Tx) error {
		txn := tx.txn
		_, err := txn.Get(metaTableKey(nt.Name))
		if err == nil {
			return fmt.Errorf("%w: %s", ErrTableExists, nt.Name)
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if nt.ID, err = nextID(txn, keyNextTableID); err != nil {
			return fmt.Errorf("assign table id: %w", err)
		}
		for _, ixs := range [][]Index{nt.GSIs, nt.LSIs} {
			for i := range ixs {
				ixs[i].ID = 0
			}
		}
		if err := assignIndexIDs(txn, nt, StatusActive); err != nil {
			return err
		}
		if nt.Status == "" {
			nt.Status = StatusActive
		}
		if nt.CreatedAt.IsZero() {
			nt.CreatedAt = time.Now().UTC()
		}
		if nt.Stream != nil {
			nt.Stream.ID = 0
		}
		if err := tx.syncStream(nil, nt, time.Now()); err != nil {
			return err
		}
		b, err := encodeTable(nt)
		if err != nil {
			return err
		}
		tx.logControl(nt, payload)
		return txn.Set(metaTableKey(nt.Name), b)
	})
	if err != nil {
		if errors.Is(err, ErrTableExists) {
			return err
		}
		return fmt.Errorf("create table %s: %w", t.Name, err)
	}
	db.mu.Lock()
	db.stats[nt.ID] = &tableStats{}
	db.mu.Unlock()
	*t = *nt.Clone()
	return db.refreshTable(nt.Name)
}

// metaUpdate runs fn in one transaction of a metadata change and commits
// it durably, with the control records fn logged. Callers hold metaMu, so
// metadata transactions never conflict with each other; writers only read
// the metadata keys.
func (db *DB) metaUpdate(fn func(tx *Tx) error) error {
	// The table's JSON may exceed valueThreshold, and metadata changes are
	// rare: always sync the value log too.
	if err := db.space.admit(0, false); err != nil {
		return err
	}
	tx := &Tx{db: db, txn: db.bdb.NewTransaction(true), wrote: true, bigValues: true}
	defer tx.discard()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.commit()
}

// logControl appends a control record for t to the transaction's change
// log, unless payload is nil.
func (tx *Tx) logControl(t *Table, payload []byte) {
	if payload == nil {
		return
	}
	tx.changes = append(tx.changes, &Change{
		Kind:    ChangeControl,
		Table:   t.Name,
		TableID: t.ID,
		Control: bytes.Clone(payload),
	})
}

// Table returns the metadata of the table called name from memory. The result
// is shared and must not be modified.
func (db *DB) Table(name string) (*Table, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return nil, ErrClosed
	}
	c, ok := db.tables[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrTableNotFound, name)
	}
	return c.t, nil
}

// Tables returns every table, sorted by name. The results are shared and must
// not be modified.
func (db *DB) Tables() ([]*Table, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return nil, ErrClosed
	}
	out := make([]*Table, 0, len(db.tables))
	for _, c := range db.tables {
		out = append(out, c.t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// UpdateTable changes a table's metadata atomically: fn receives a private
// copy, and its changes are stored unless it returns an error, which
// UpdateTable returns unchanged. fn may change anything but the name, ID and
// key schema. An index fn adds (ID zero) gets an ID and, without a status,
// StatusCreating: it is maintained by every write from then on and filled
// with the existing items by BackfillIndex. The entries of an index fn
// removes are purged before UpdateTable returns.
func (db *DB) UpdateTable(name string, fn func(t *Table) error) (*Table, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	return db.updateTable(name, func(t *Table) ([]byte, error) { return nil, fn(t) })
}

// UpdateTableLogged is UpdateTable whose fn also returns the payload of a
// control record, logged in the same transaction as the metadata change
// (nil: log nothing). An error from fn aborts both.
func (db *DB) UpdateTableLogged(name string, fn func(t *Table) (payload []byte, err error)) (*Table, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	return db.updateTable(name, fn)
}

func (db *DB) updateTable(name string, fn func(t *Table) ([]byte, error)) (*Table, error) {
	db.metaMu.Lock()
	defer db.metaMu.Unlock()

	var nt *Table
	var dropped []uint32
	var fnErr error
	err := db.metaUpdate(func(tx *Tx) error {
		txn := tx.txn
		cur, err := db.readTable(txn, name)
		if err != nil {
			return err
		}
		nt = cur.Clone()
		payload, err := fn(nt)
		if err != nil {
			fnErr = err
			return err
		}
		tx.logControl(nt, payload)
		if nt.Name != cur.Name || nt.ID != cur.ID || nt.Hash != cur.Hash || !sameElement(nt.Range, cur.Range) {
			return fmt.Errorf("%w: %s: name, ID and key schema cannot change", ErrInvalidTable, name)
		}
		if err := validateTable(nt); err != nil {
			return err
		}
		if err := tx.syncStream(cur, nt, time.Now()); err != nil {
			return err
		}
		kept := make(map[uint32]bool)
		for _, ixs := range [][]Index{nt.GSIs, nt.LSIs} {
			for _, ix := range ixs {
				if ix.ID == 0 {
					continue
				}
				if cur.indexByID(ix.ID) == nil {
					return fmt.Errorf("%w: %s: index %s has unknown ID %d", ErrInvalidTable, name, ix.Name, ix.ID)
				}
				kept[ix.ID] = true
			}
		}
		for _, ixs := range [][]Index{cur.GSIs, cur.LSIs} {
			for _, ix := range ixs {
				if !kept[ix.ID] {
					dropped = append(dropped, ix.ID)
				}
			}
		}
		if err := assignIndexIDs(txn, nt, StatusCreating); err != nil {
			return err
		}
		for _, id := range dropped {
			if err := txn.Set(metaDropKey(indexPrefix(nt.ID, id)), nil); err != nil {
				return err
			}
		}
		b, err := encodeTable(nt)
		if err != nil {
			return err
		}
		return txn.Set(metaTableKey(name), b)
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		if errors.Is(err, ErrTableNotFound) || errors.Is(err, ErrInvalidTable) {
			return nil, err
		}
		return nil, fmt.Errorf("update table %s: %w", name, err)
	}
	if err := db.refreshTable(name); err != nil {
		return nil, err
	}
	for _, id := range dropped {
		if err := db.purge(indexPrefix(nt.ID, id)); err != nil {
			return nil, err
		}
	}
	return nt.Clone(), nil
}

func sameElement(a, b *KeyElement) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// DropIndex removes an index and purges its entries.
func (db *DB) DropIndex(table, index string) error {
	_, err := db.UpdateTable(table, func(t *Table) error {
		for _, p := range []*[]Index{&t.GSIs, &t.LSIs} {
			for i := range *p {
				if (*p)[i].Name == index {
					*p = slices.Delete(*p, i, i+1)
					return nil
				}
			}
		}
		return fmt.Errorf("%w: %s on %s", ErrIndexNotFound, index, table)
	})
	return err
}

// DeleteTable removes a table's metadata and then all its rows: items,
// tombstones and index entries. Writes in flight to the table fail with
// ErrTableNotFound. If the process stops before the rows are gone, Open
// finishes the job. Change records already logged for the table are kept for
// the publisher.
func (db *DB) DeleteTable(name string) error {
	return db.DeleteTableLogged(name, nil)
}

// DeleteTableLogged is DeleteTable that also logs a control record carrying
// payload in the same transaction as the metadata removal (nil: log
// nothing).
func (db *DB) DeleteTableLogged(name string, payload []byte) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	db.metaMu.Lock()
	defer db.metaMu.Unlock()

	var id uint64
	err := db.metaUpdate(func(tx *Tx) error {
		txn := tx.txn
		t, err := db.readTable(txn, name)
		if err != nil {
			return err
		}
		id = t.ID
		if err := tx.syncStream(t, nil, time.Now()); err != nil {
			return err
		}
		tx.logControl(t, payload)
		if err := txn.Delete(metaTableKey(name)); err != nil {
			return err
		}
		if err := txn.Set(metaDropKey(itemPrefix(id)), nil); err != nil {
			return err
		}
		return txn.Set(metaDropKey(indexTablePrefix(id)), nil)
	})
	if err != nil {
		if errors.Is(err, ErrTableNotFound) {
			return err
		}
		return fmt.Errorf("delete table %s: %w", name, err)
	}
	if err := db.refreshTable(name); err != nil {
		return err
	}
	db.mu.Lock()
	delete(db.stats, id)
	db.mu.Unlock()
	if err := db.purge(itemPrefix(id)); err != nil {
		return err
	}
	return db.purge(indexTablePrefix(id))
}

func metaDropKeyPrefix() []byte { return []byte{prefixMeta, metaDrop} }

// resumeDrops purges the rows of tables and indexes whose drop was
// interrupted.
func (db *DB) resumeDrops() error {
	var prefixes [][]byte
	err := db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = metaDropKeyPrefix()
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			prefixes = append(prefixes, bytes.Clone(it.Item().Key()[2:]))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list pending drops: %w", err)
	}
	for _, p := range prefixes {
		db.log.Info("resuming interrupted drop", "prefix", fmt.Sprintf("%x", p))
		if err := db.purge(p); err != nil {
			return err
		}
	}
	return nil
}

// purge deletes every key with prefix p, then p's drop marker. Nothing writes
// under p any more (its table or index ID is gone from the metadata), so one
// snapshot pass finds every key.
func (db *DB) purge(p []byte) error {
	if err := db.space.admit(0, true); err != nil {
		return fmt.Errorf("purge %x: %w", p, err)
	}
	wb := db.bdb.NewWriteBatch()
	defer wb.Cancel()
	n := 0
	err := db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = p
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err == nil {
		err = wb.Flush()
	}
	if err == nil {
		err = db.bdb.Update(func(txn *badger.Txn) error { return txn.Delete(metaDropKey(p)) })
	}
	if err != nil {
		return fmt.Errorf("purge %x: %w", p, err)
	}
	db.log.Debug("purged", "prefix", fmt.Sprintf("%x", p), "keys", n)
	return nil
}

// backfillBatchSize is how many item rows one backfill transaction covers:
// small enough to stay far below Badger's transaction limit and to make a
// conflict with a concurrent writer cheap to retry.
const backfillBatchSize = 256

// BackfillIndex fills a newly added index (status CREATING) with the table's
// existing items, in batches of rows each read and indexed in one
// transaction, then marks it ACTIVE. Writes that run meanwhile maintain the
// index themselves; a batch that races one of them conflicts and is retried,
// so the result is the same as if the index had always existed. Calling it
// for an ACTIVE index does nothing.
//
// The backfill keeps no position of its own: an interrupted one (crash,
// stop) is started again from the first row, which is correct for the same
// reason a concurrent write is harmless (each batch indexes rows as they are
// at its commit, and writes maintain the index from its creation on).
func (db *DB) BackfillIndex(ctx context.Context, table, index string) error {
	return db.BackfillIndexProgress(ctx, table, index, nil)
}

// BackfillIndexProgress is BackfillIndex that calls progress after each
// batch with the number of rows read so far (items and tombstones). A
// progress that returns an error stops the backfill with it; the index
// stays CREATING, to be backfilled again later.
func (db *DB) BackfillIndexProgress(ctx context.Context, table, index string, progress func(rows int) error) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	t, err := db.Table(table)
	if err != nil {
		return err
	}
	ix, ok := t.Index(index)
	if !ok {
		return fmt.Errorf("%w: %s on %s", ErrIndexNotFound, index, table)
	}
	if ix.Status != StatusCreating {
		return nil
	}
	tid, iid := t.ID, ix.ID
	cursor := itemPrefix(tid)
	rows := 0
	for cursor != nil {
		var n int
		var next []byte
		err := retry(ctx, func() error {
			var err error
			n, next, err = db.backfillBatch(table, tid, iid, cursor)
			return err
		})
		if err != nil {
			return fmt.Errorf("backfill index %s on %s: %w", index, table, err)
		}
		rows += n
		cursor = next
		if progress != nil {
			if err := progress(rows); err != nil {
				return fmt.Errorf("backfill index %s on %s: %w", index, table, err)
			}
		}
	}
	_, err = db.updateTable(table, func(t *Table) ([]byte, error) {
		if t.ID != tid {
			return nil, fmt.Errorf("%w: %s", ErrTableNotFound, table)
		}
		ix := t.indexByID(iid)
		if ix == nil {
			return nil, fmt.Errorf("%w: %s on %s", ErrIndexNotFound, index, table)
		}
		if ix.Status == StatusCreating {
			ix.Status = StatusActive
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	db.log.Info("index backfilled", "table", table, "index", index, "rows", rows)
	return nil
}

// backfillBatch indexes up to backfillBatchSize rows from cursor on, in one
// transaction whose conflict set holds the rows and the table's metadata. It
// returns the cursor of the next batch, nil at the end.
func (db *DB) backfillBatch(name string, tid uint64, iid uint32, cursor []byte) (int, []byte, error) {
	txn := db.bdb.NewTransaction(true)
	defer txn.Discard()
	t, err := db.readTable(txn, name)
	if err != nil {
		return 0, nil, err
	}
	if t.ID != tid {
		return 0, nil, fmt.Errorf("%w: %s", ErrTableNotFound, name)
	}
	ix := t.indexByID(iid)
	if ix == nil {
		return 0, nil, fmt.Errorf("%w: ID %d on %s", ErrIndexNotFound, iid, name)
	}
	if ix.Status != StatusCreating {
		return 0, nil, nil // finished by someone else
	}
	var next []byte
	n := 0
	big := false
	err = func() error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = itemPrefix(tid)
		opts.PrefetchSize = 64
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(cursor); it.Valid(); it.Next() {
			item := it.Item()
			if n == backfillBatchSize {
				next = item.KeyCopy(nil)
				return nil
			}
			n++
			rec, err := itemRowWith(item, false)
			if err != nil {
				return err
			}
			if !rec.Exists() {
				continue
			}
			_, pk, sk, err := tableKey(t, rec.Item)
			if err != nil {
				return fmt.Errorf("row %x: %w", item.Key(), err)
			}
			if k, v, ok := indexEntry(t, ix, rec, pk, sk); ok {
				if err := txn.Set(k, v); err != nil {
					return err
				}
				big = big || len(v) >= valueThreshold
			}
		}
		return nil
	}()
	if err != nil {
		return 0, nil, err
	}
	if err := db.space.admit(0, false); err != nil {
		return 0, nil, err
	}
	if err := txn.Commit(); err != nil {
		return 0, nil, err
	}
	if big && db.files != nil {
		// Made durable with the final status change of BackfillIndex.
		db.files.vlogDirty.Store(true)
	}
	return n, next, nil
}
