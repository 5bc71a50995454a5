// Package store is the Badger storage of one region: table metadata, versioned
// items and tombstones, secondary indexes kept consistent with their items in
// the same transaction, the durable change log that the publisher drains, and
// the row format that replication applies remote changes to.
//
// store knows storage, not DynamoDB: conditions, update expressions, capacity
// and validation of requests belong to region/api. Values and their encodings
// belong to store/attr; versions and the clock to conflict.
//
// # Key layout
//
// Every key starts with a one-byte prefix naming what it holds. Integers are
// big endian so that byte order is numeric order. enc(v) is attr.AppendKey,
// which is order-preserving and self-delimiting (no encoding is a prefix of
// another), so a concatenation of encodings sorts component by component.
//
//	i | tableID(8) | h16(2) | enc(pk) | enc(sk)?                 item row
//	x | tableID(8) | indexID(4) | h16(2) | enc(ipk) | enc(isk)? | enc(pk) | enc(sk)?
//	                                                             index entry
//	m | t | name                                                 table metadata (JSON)
//	m | d | prefix                                               pending purge of the rows under prefix
//	                                                             (a dropped table's i|tableID and x|tableID,
//	                                                             a dropped index's x|tableID|indexID)
//	m | n | t   and   m | n | x                                  next table ID, next index ID
//	m | q                                                        change sequence lease (badger.Sequence)
//	m | s                                                        stats snapshot written by Close
//	c | seq(8)                                                   change record (AppendChange)
//	s | ...                                                      reserved: per-source replication cursors
//	k | ...                                                      reserved: conflict log
//
// h16 is the top 16 bits of xxhash64(enc(pk)). Rows are therefore stored in
// hash order of their partition key, as in DynamoDB, and segment s of a
// parallel Scan in N segments is the contiguous h16 range
// [s*65536/N, (s+1)*65536/N). A Query is one seek and one ordered iteration
// inside i|tableID|h16|enc(pk) (or the index's equivalent), reversed for
// ScanIndexForward=false.
//
// Table IDs and index IDs are never reused, so rows of a dropped table or
// index are unreachable even before they are purged, and a table re-created
// under the same name starts empty.
//
// # Row format
//
// Item rows and index entries share one value format (see row.go):
//
//	format(1)=1 | flags(1) | version | prev | attr.AppendItem(item)
//
// flags bit 0 marks a tombstone (item empty). version is the version of the
// write that produced the row; prev is the version it replaced (zero if none),
// which replication needs to tell causal succession from a concurrent write.
// An index entry carries the projected item and the version of its base row.
//
// # Invariants
//
//   - A local write's version is Clock.Next(version it replaces), read in the
//     same transaction, so a write that replaces another always has the greater
//     version. Badger's conflict detection retries the loser of two concurrent
//     writers, which then reads the winner's version.
//   - An item row, its index entries, the table statistics delta and its change
//     record are written in one Badger transaction: all or nothing.
//   - Every write transaction reads the table's metadata key, so a write racing
//     CreateTable/UpdateTable/DeleteTable conflicts and retries against the new
//     metadata. That is what keeps a GSI being back-filled (status CREATING)
//     maintained by every write that commits after it was added, and keeps a
//     dropped table free of rows written by requests already in flight.
//   - Change sequence numbers are assigned at commit, under a mutex that also
//     hands the transaction to Badger's write channel. Badger assigns commit
//     timestamps in that same order, and a snapshot sees every commit below its
//     read timestamp, so any snapshot sees a prefix of the change log (less
//     the seqs of failed commits: gaps are possible, reordering is not). A
//     publisher that reads Changes(cursor, n) therefore never skips a record.
//   - Sequence numbers are never reused across restarts (badger.Sequence leases
//     them durably; with SyncWrites off, a machine crash, not a process crash,
//     may lose the lease together with the records that used it).
//   - Deleting an absent item (or a tombstone) writes nothing and records no
//     change.
//
// # Durability
//
// With Config.SyncWrites an Update returns only after its commit is fsynced.
// Badger's own SyncWrites msyncs its log once per transaction even when its
// writer batches several, so the store does group commit itself (sync.go):
// commits that finish while one fsync round runs share the next. Change
// records are handed to the publisher only once on disk.
//
// # For replication
//
// Applying a remote change is meant to reuse this package's pieces inside a
// Tx: read the row (getRow), decide with conflict.Decide(row.Version,
// change.Version), write it through tx.writeRow (which keeps indexes and
// statistics right; a tombstone is Record{Deleted: true}), keep the remote
// version and its Prev as they are, call Clock.Observe(change.Version), and
// store the per-source cursor under the reserved s| prefix in the same
// transaction. Whether an applied remote change is logged as a Change (for
// chained replication) is the replicator's call; commit assigns sequence
// numbers only to tx.changes.
//
// Item counts and sizes (Stats) are kept in memory, updated after each
// successful commit, written to m|s by Close and recounted from the rows at
// Open when that snapshot is missing (after a crash).
package store
