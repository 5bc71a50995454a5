package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Streams returns every stream the store holds, enabled or disabled (a
// disabled stream stays until the retention has passed), sorted by ID,
// which is creation order.
func (db *DB) Streams() ([]*StreamInfo, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	var out []*StreamInfo
	err := db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{prefixStream, streamMeta}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var info StreamInfo
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &info) }); err != nil {
				return fmt.Errorf("%w: stream metadata %x: %w", ErrCorrupt, it.Item().Key(), err)
			}
			out = append(out, &info)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	return out, nil
}

// Stream returns one stream's metadata and its shards, oldest first,
// leaving out closed shards whose records have all been trimmed; or
// ErrStreamNotFound.
func (db *DB) Stream(id uint64) (*StreamInfo, []Shard, error) {
	if err := db.enter(); err != nil {
		return nil, nil, err
	}
	defer db.exit()
	var info StreamInfo
	var shards []Shard
	err := db.bdb.View(func(txn *badger.Txn) error {
		if err := getJSON(txn, streamMetaKey(id), &info); err != nil {
			return err
		}
		var err error
		shards, err = readShards(txn, id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return &info, shards, nil
}

func readShards(txn *badger.Txn, id uint64) ([]Shard, error) {
	horizon, err := trimHorizon(txn, id)
	if err != nil {
		return nil, err
	}
	var shards []Shard
	opts := badger.DefaultIteratorOptions
	opts.Prefix = streamKey(streamShards, id)
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var sh Shard
		if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &sh) }); err != nil {
			return nil, fmt.Errorf("%w: shard %x: %w", ErrCorrupt, it.Item().Key(), err)
		}
		if !sh.Open() && sh.End <= horizon {
			continue // trimmed entirely
		}
		shards = append(shards, sh)
	}
	sort.Slice(shards, func(i, j int) bool { return shards[i].Index < shards[j].Index })
	return shards, nil
}

// trimHorizon returns the greatest sequence number trimmed from the
// stream: records at or below it are gone.
func trimHorizon(txn *badger.Txn, id uint64) (uint64, error) {
	item, err := txn.Get(streamTrimKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var h uint64
	err = item.Value(func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("%w: trim horizon of %d bytes", ErrCorrupt, len(b))
		}
		h = binary.BigEndian.Uint64(b)
		return nil
	})
	return h, err
}

// StreamPage is what StreamRecords read.
type StreamPage struct {
	Records []*StreamRecord
	// Shard is the shard as the read saw it.
	Shard Shard
	// Next is the position to read after next time: the last record's
	// sequence number, or the position given when there was none.
	Next uint64
	// Exhausted is set when the shard is closed and holds nothing after
	// Next: a reader moves on to its child.
	Exhausted bool
	// Horizon is the stream's trim horizon (records at or below it are
	// gone).
	Horizon uint64
}

// StreamRecords reads the records of one shard whose sequence numbers are
// greater than after: at most limit of them, and no more once their
// SizeBytes add up to maxBytes (at least one record is returned when there
// is one). Records in the trimmed part of the shard give ErrTrimmed; a
// stream or shard the store does not hold gives ErrStreamNotFound.
//
// Only durable records are returned: with SyncWrites, a record committed
// by a replicated apply that has not been fsynced yet (applies do not wait
// for their sync round) is made durable before it is handed out, so a
// crash can never take back a record a reader has seen.
func (db *DB) StreamRecords(id uint64, shard uint32, after uint64, limit, maxBytes int) (*StreamPage, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	page := &StreamPage{Next: after}
	err := db.bdb.View(func(txn *badger.Txn) error {
		if err := getJSON(txn, streamShardKey(id, shard), &page.Shard); err != nil {
			return err
		}
		sh := page.Shard
		var err error
		if page.Horizon, err = trimHorizon(txn, id); err != nil {
			return err
		}
		if after < page.Horizon && page.Horizon >= sh.Start {
			return fmt.Errorf("%w: position %d is below the trim horizon %d", ErrTrimmed, after, page.Horizon)
		}
		from := max(after+1, sh.Start)
		opts := badger.DefaultIteratorOptions
		opts.Prefix = streamKey(streamRecs, id)
		opts.PrefetchSize = min(max(limit, 1), 100)
		it := txn.NewIterator(opts)
		defer it.Close()
		size := 0
		for it.Seek(streamRecordKey(id, from)); it.Valid(); it.Next() {
			k := it.Item().Key()
			seq := binary.BigEndian.Uint64(k[len(k)-8:])
			if !sh.Open() && seq > sh.End {
				break
			}
			if len(page.Records) >= limit {
				return nil
			}
			var r *StreamRecord
			err := it.Item().Value(func(b []byte) error {
				var err error
				r, err = decodeStreamRecord(seq, b)
				return err
			})
			if err != nil {
				return err
			}
			if len(page.Records) > 0 && size+r.SizeBytes > maxBytes {
				return nil
			}
			size += r.SizeBytes
			page.Records = append(page.Records, r)
			page.Next = seq
		}
		page.Exhausted = !sh.Open()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n := len(page.Records); n > 0 {
		if err := db.streamDurable(page.Records[n-1].Seq); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// streamDurable returns once the stream records up to seq are on disk.
func (db *DB) streamDurable(seq uint64) error {
	if db.group == nil || seq <= db.streamSynced.Load() {
		return nil
	}
	if err := db.durable(false); err != nil {
		return fmt.Errorf("sync stream records: %w", err)
	}
	db.markStreamSynced(seq)
	return nil
}

// markStreamSynced raises the stream durability watermark to seq: every
// stream record at or below it is on disk (sequence numbers follow commit
// order, and a sync round covers every commit handed to Badger before it).
func (db *DB) markStreamSynced(seq uint64) { raise(&db.streamSynced, seq) }

// StreamLatest returns the sequence number below every record committed
// after the call: a LATEST iterator reads after it.
func (db *DB) StreamLatest(id uint64) (uint64, error) {
	if err := db.enter(); err != nil {
		return 0, err
	}
	defer db.exit()
	var last uint64
	err := db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Reverse, opts.PrefetchValues = true, false
		opts.Prefix = streamKey(streamRecs, id)
		it := txn.NewIterator(opts)
		defer it.Close()
		it.Seek(streamRecordKey(id, ^uint64(0)))
		if it.Valid() {
			k := it.Item().Key()
			last = binary.BigEndian.Uint64(k[len(k)-8:])
		}
		return nil
	})
	return last, err
}

// maintainStreams rolls over the open shards older than the shard period
// and trims what is older than the retention: records, then closed shards
// left empty, then disabled streams past their retention.
func (db *DB) maintainStreams(ctx context.Context, now time.Time) error {
	infos, err := db.Streams()
	if err != nil {
		return err
	}
	cutoff := now.Add(-db.cfg.StreamRetention)
	for _, info := range infos {
		if info.Enabled() {
			if err := db.rollShard(ctx, info, now); err != nil {
				return err
			}
		} else if info.DisabledAt.Before(cutoff) {
			if err := db.dropStream(info.ID); err != nil {
				return err
			}
			continue
		}
		if err := db.trimStream(info.ID, cutoff); err != nil {
			return err
		}
	}
	return nil
}

// rollShard closes the stream's open shard and opens its child if the open
// one is older than the shard period. It runs in a write transaction that
// reads the table's metadata, so it cannot interleave with a disable.
func (db *DB) rollShard(ctx context.Context, info *StreamInfo, now time.Time) error {
	err := db.Update(ctx, func(tx *Tx) error {
		t, err := tx.tableNamed(info.Table)
		if errors.Is(err, ErrTableNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if t.Stream == nil || t.Stream.ID != info.ID {
			return nil
		}
		cur, err := tx.streamInfo(info.ID)
		if err != nil || !cur.Enabled() {
			return err
		}
		sh, err := tx.shard(cur.ID, cur.Shard)
		if err != nil {
			return err
		}
		if now.Sub(sh.CreatedAt) < db.cfg.StreamShardPeriod {
			return nil
		}
		tx.streamShards = append(tx.streamShards, &pendingShard{info: cur, close: &sh, open: true})
		return nil
	})
	if err != nil {
		return fmt.Errorf("roll over shard of stream %d: %w", info.ID, err)
	}
	return nil
}

// streamTrimBatch bounds the records one trim transaction deletes.
const streamTrimBatch = 1000

// trimStream deletes the stream's records created before cutoff, raising
// its trim horizon in the same transaction, and the metadata of closed
// shards that held only such records.
func (db *DB) trimStream(id uint64, cutoff time.Time) error {
	for {
		more := false
		err := db.bdb.Update(func(txn *badger.Txn) error {
			opts := badger.DefaultIteratorOptions
			opts.Prefix = streamKey(streamRecs, id)
			it := txn.NewIterator(opts)
			var keys [][]byte
			var last uint64
			for it.Rewind(); it.Valid(); it.Next() {
				var at int64
				err := it.Item().Value(func(b []byte) error {
					if len(b) < 4 {
						return fmt.Errorf("%w: stream record %x", ErrCorrupt, it.Item().Key())
					}
					var n int
					at, n = binary.Varint(b[3:])
					if n <= 0 {
						return fmt.Errorf("%w: stream record %x", ErrCorrupt, it.Item().Key())
					}
					return nil
				})
				if err != nil {
					it.Close()
					return err
				}
				if !time.Unix(0, at).Before(cutoff) {
					break
				}
				if len(keys) == streamTrimBatch {
					more = true
					break
				}
				k := it.Item().KeyCopy(nil)
				keys = append(keys, k)
				last = binary.BigEndian.Uint64(k[len(k)-8:])
			}
			it.Close()
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			if last > 0 {
				if err := txn.Set(streamTrimKey(id), binary.BigEndian.AppendUint64(nil, last)); err != nil {
					return err
				}
			}
			return db.trimShards(txn, id, cutoff)
		})
		if err != nil {
			return fmt.Errorf("trim stream %d: %w", id, err)
		}
		if !more {
			return nil
		}
	}
}

// trimShards deletes the metadata of closed shards closed before cutoff:
// every record they held is older than that.
func (db *DB) trimShards(txn *badger.Txn, id uint64, cutoff time.Time) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = streamKey(streamShards, id)
	it := txn.NewIterator(opts)
	var drop [][]byte
	var horizon uint64
	for it.Rewind(); it.Valid(); it.Next() {
		var sh Shard
		if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &sh) }); err != nil {
			it.Close()
			return fmt.Errorf("%w: shard %x: %w", ErrCorrupt, it.Item().Key(), err)
		}
		if !sh.Open() && sh.ClosedAt.Before(cutoff) {
			drop = append(drop, it.Item().KeyCopy(nil))
			horizon = max(horizon, sh.End)
		}
	}
	it.Close()
	for _, k := range drop {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	if horizon == 0 {
		return nil
	}
	cur, err := trimHorizon(txn, id)
	if err != nil || horizon <= cur {
		return err
	}
	return txn.Set(streamTrimKey(id), binary.BigEndian.AppendUint64(nil, horizon))
}

// dropStream deletes a disabled stream past its retention: records,
// shards, horizon and metadata.
func (db *DB) dropStream(id uint64) error {
	wb := db.bdb.NewWriteBatch()
	defer wb.Cancel()
	err := db.bdb.View(func(txn *badger.Txn) error {
		for _, kind := range []byte{streamRecs, streamShards, streamTrim, streamMeta} {
			opts := badger.DefaultIteratorOptions
			opts.Prefix = streamKey(kind, id)
			opts.PrefetchValues = false
			it := txn.NewIterator(opts)
			for it.Rewind(); it.Valid(); it.Next() {
				if err := wb.Delete(it.Item().KeyCopy(nil)); err != nil {
					it.Close()
					return err
				}
			}
			it.Close()
		}
		return nil
	})
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		return fmt.Errorf("drop stream %d: %w", id, err)
	}
	db.log.Debug("dropped stream past its retention", "stream", id)
	return nil
}

// streamLoop runs maintainStreams until ctx is cancelled, often enough for
// the shard period and retention configured.
func (db *DB) streamLoop(ctx context.Context) {
	every := min(db.cfg.StreamShardPeriod, db.cfg.StreamRetention) / 8
	every = min(max(every, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if db.space.admit(0, true) != nil {
			continue
		}
		if err := db.maintainStreams(ctx, time.Now()); err != nil && !errors.Is(err, ErrClosed) && ctx.Err() == nil {
			db.log.Warn("stream maintenance failed", "error", err)
		}
	}
}

// StreamTrimHorizon returns the greatest sequence number trimmed from the
// stream (0 if none): a TRIM_HORIZON reader starts after it.
func (db *DB) StreamTrimHorizon(id uint64) (uint64, error) {
	if err := db.enter(); err != nil {
		return 0, err
	}
	defer db.exit()
	var h uint64
	err := db.bdb.View(func(txn *badger.Txn) error {
		var err error
		h, err = trimHorizon(txn, id)
		return err
	})
	return h, err
}
