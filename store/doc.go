// Package store is the Badger storage of one region: table metadata, versioned
// items and tombstones, secondary indexes kept consistent with their items in
// the same transaction, the durable change log that the publisher drains,
// and the storage half of replication: applying remote changes by
// last-writer-wins (Apply), per-source cursors, the conflict log, table
// snapshots (ExportTable), tombstone purge and convergence digests.
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
//	s | source                                                   last stream sequence applied from source (8)
//	w | source                                                   watermark: greatest floor of source's own writes
//	                                                             applied from its stream (rebuild.go)
//	k | seq(8)                                                   conflict log entry (conflictlog.go)
//	m | r                                                        stream sequence lease (badger.Sequence)
//	m | n | e                                                    next stream ID
//	e | m | streamID(8)                                          stream metadata (JSON StreamInfo)
//	e | h | streamID(8) | shard(4)                               shard metadata (JSON Shard)
//	e | r | streamID(8) | seq(8)                                 stream record (stream.go)
//	e | t | streamID(8)                                          trim horizon: greatest seq trimmed
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
// Item rows are written in format 2, index entries in format 1 (see row.go):
//
//	format(1)=2 | flags(1) | version | prev | context | attr.AppendItem(item)
//	format(1)=1 | flags(1) | version | prev | attr.AppendItem(item)
//
// flags bit 0 marks a tombstone (item empty). version is the version of the
// write that produced the row; prev is the version it replaced (zero if
// none). context (conflict.Context.AppendBinary) is the row's causal
// history, its own version included: per region, the newest version the row
// descends from or has been weighed against. Replication compares it with
// an incoming change's context to tell succession from a concurrent write
// (conflict.Classify). Index entries carry the projected item and the
// versions of their base row but no context: nothing replicates from them,
// and they stay small. An item row of format 1, written before contexts
// existed, reads as having the context {version}. Query and Scan skip the
// context without decoding it.
//
// # Invariants
//
//   - A local write's version is Clock.Next(version it replaces), read in the
//     same transaction, so a write that replaces another always has the greater
//     version. Badger's conflict detection retries the loser of two concurrent
//     writers, which then reads the winner's version. Its context is the old
//     row's context plus the new version: a local write knowingly supersedes
//     everything the row had absorbed, remote writes and conflicts included.
//   - A row's version is never replaced by an older one, and its context only
//     grows (Apply merges; local writes extend).
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
// # Streams
//
// A table with Table.Stream set has a stream (DynamoDB Streams). Every
// transaction that changes one of its item rows, a local write (Put,
// Delete) or a replicated change that wins last-writer-wins in Apply
// (writeRow's callers), also writes one stream record, in the same
// transaction: the record exists if and only if the change does. A change
// that loses or is a duplicate writes no row and so no record; a write that
// leaves a live item as it was writes none either (DynamoDB's rule for a
// PutItem or UpdateItem that changes nothing), nor does deleting an absent
// item. Records carry the keys and the images the view type asks for, the
// commit's wall time, the origin region (the version's) and whether a
// replicated change overwrote a concurrent local write.
//
// Stream sequence numbers come from their own badger.Sequence and, like
// change sequence numbers, are assigned at commit under commitMu, so any
// snapshot sees a prefix of every stream and a reader never skips a record.
// Shards are ranges of sequence numbers: a shard boundary (a stream's
// first shard, a roll-over after Config.StreamShardPeriod, a disable)
// takes a sequence number at its commit, under commitMu too, so a shard
// closed at boundary b holds exactly the records below b. Records older
// than Config.StreamRetention are trimmed, raising the stream's trim
// horizon in the same transaction; a disabled stream is dropped once its
// retention has passed. StreamRecords hands out only durable records: it
// waits for a sync round when it would return a record from a lazy
// (replicated) commit not yet synced.
//
// # Durability
//
// With Config.SyncWrites an Update, an Apply or a metadata change returns
// only after its commit is fsynced. Badger's own SyncWrites msyncs its log
// once per transaction even when its writer batches several, so the store
// does group commit itself (sync.go): commits that finish while one fsync
// round runs share the next. Change records are handed to the publisher only
// once on disk: from memory by the commit that wrote them, after its own
// sync round succeeded, or read back from the log (handoff.go). A
// tombstone purge is not synced: losing one is harmless. After a flush of
// the logs fails, no commit is acknowledged again and every write is
// refused with a *FlushError until the store is reopened (flushfail.go): a
// later flush could succeed over pages the failed one lost.
//
// # Replication
//
// Local writes (Tx.Put, Tx.Delete) log a change record carrying the new
// row's context; CommittedAt is the real wall time of the commit, for
// measuring replication latency. Each item record also carries a floor
// (inflight.go): every write of this region below it that ever commits has a
// smaller Seq, which lets another region say exactly which of this region's
// writes it has received (Watermarks), for a rebuild after an absence
// longer than the tombstone horizon (docs/replication.md). Table-level changes are logged as control
// records (Change.Kind ChangeControl, an opaque payload from the API layer)
// by CreateTableLogged, UpdateTableLogged and DeleteTableLogged, in the
// transaction of the metadata change, so a table changes if and only if the
// other regions will hear of it. The plain CreateTable, UpdateTable and
// DeleteTable are the same with no payload.
//
// Apply applies a batch of another region's changes in one transaction: for
// each, it reads the local row (joining the conflict set, so racing local
// writes retry), classifies the pair with conflict.Classify and
//
//   - replaces the row, through writeRow (indexes and statistics stay
//     right), with the remote version, its Prev and the merged context;
//   - or, when the local row wins but the incoming context adds history
//     (a concurrent loser), rewrites only the row's context;
//   - or writes nothing (a duplicate, or an older change already covered).
//
// Concurrent pairs are appended to the conflict log, except two deletes
// (nothing was lost). Every version seen is observed by the Clock (which
// may ignore one too far ahead of it: the next local write of that item
// still supersedes it, through Clock.Next). The source's cursor (s|source) is written
// in the same transaction, so the items and the position in the source's
// stream are durable together. Apply logs no change records: a region
// publishes only its own writes (no echo), and every region reads every
// other region's stream. Control records in a batch are skipped; the region
// applies them itself and records the cursor with SetCursor. A batch too big
// for one Badger transaction, or that keeps conflicting with local writers,
// is split; the cursor goes with the last part.
//
// Because the outcome is last-writer-wins on a total order and contexts
// merge by union, applying the same set of changes in any order, with
// duplicates and in any batching, gives the same rows, versions and
// contexts everywhere; Digest hashes a table's live items and versions to
// check that across regions.
//
// Conflict log entries are numbered in commit order under commitMu, like
// change records, so Conflicts(afterSeq, n) never skips one; ConflictCount
// is kept in memory and recounted at Open.
//
// ExportTable pages through a table's rows, tombstones included, as
// Changes carrying versions and contexts; applying them with Apply
// reproduces the table (snapshots for a new replica or a region that fell
// behind the streams' retention). PurgeTombstones deletes tombstones older
// than a cutoff in transactions whose conflict sets hold the rows examined,
// so it never removes a row a concurrent write just replaced. A purged
// tombstone no longer stops an older put from resurrecting the item, so the
// cutoff must be older than any change that may still arrive; a region away
// for longer rebuilds (Watermarks, Lacking, DropStale).
//
// Item counts and sizes (Stats) are kept in memory, updated after each
// successful commit, written to m|s by Close and recounted from the rows at
// Open when that snapshot is missing (after a crash).
package store
