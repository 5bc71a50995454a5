package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store/attr"
)

// Conflict is one entry of the conflict log: two concurrent writes of one
// item (neither writer had seen the other's), the one last-writer-wins kept
// and the one it overwrote or dropped. Apply records it in the region that
// detects it; every region that sees both writes detects the pair, so the
// same conflict may appear in several regions' logs.
type Conflict struct {
	// Seq orders the entries of this region's log; gaps are possible.
	Seq   uint64
	Table string
	// Key holds the item's key attributes.
	Key    attr.Item
	Winner conflict.Version
	Loser  conflict.Version
	// WinnerItem is the winning image; nil if the winner is a delete.
	WinnerItem attr.Item
	// LoserItem is the losing image; nil if the loser is a delete.
	LoserItem attr.Item
	// Region is where the conflict was detected (this region).
	Region string
	// Source is the region the incoming change came from.
	Source string
	// DetectedAt is the wall time of detection.
	DetectedAt time.Time
}

// Conflict entry format, version 1 (the key k|seq carries Seq):
//
//	format(1)=1 | flags(1) | uvarint len | table | uvarint len | key item |
//	winner | loser | [uvarint len | winner item] | [uvarint len | loser item] |
//	uvarint len | region | uvarint len | source | varint detectedAt
//
// flags: bit 0 WinnerItem present, bit 1 LoserItem present.
const (
	conflictFormat1 byte = 1

	conflictHasWinner byte = 1 << 0
	conflictHasLoser  byte = 1 << 1
	conflictFlags          = conflictHasWinner | conflictHasLoser
)

func appendConflict(dst []byte, c *Conflict) []byte {
	var flags byte
	if c.WinnerItem != nil {
		flags |= conflictHasWinner
	}
	if c.LoserItem != nil {
		flags |= conflictHasLoser
	}
	dst = append(dst, conflictFormat1, flags)
	dst = binary.AppendUvarint(dst, uint64(len(c.Table)))
	dst = append(dst, c.Table...)
	dst = appendItemField(dst, c.Key)
	dst = c.Winner.AppendBinary(dst)
	dst = c.Loser.AppendBinary(dst)
	if c.WinnerItem != nil {
		dst = appendItemField(dst, c.WinnerItem)
	}
	if c.LoserItem != nil {
		dst = appendItemField(dst, c.LoserItem)
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.Region)))
	dst = append(dst, c.Region...)
	dst = binary.AppendUvarint(dst, uint64(len(c.Source)))
	dst = append(dst, c.Source...)
	return binary.AppendVarint(dst, c.DetectedAt.UnixNano())
}

func decodeConflict(seq uint64, b []byte) (*Conflict, error) {
	if len(b) < 2 || b[0] != conflictFormat1 || b[1]&^conflictFlags != 0 {
		return nil, fmt.Errorf("%w: conflict %d: bad header", ErrCorrupt, seq)
	}
	flags := b[1]
	d := &changeDecoder{b: b[2:]}
	c := &Conflict{Seq: seq}
	c.Table = string(d.bytes("table"))
	c.Key = d.item("key")
	c.Winner = d.version("winner")
	c.Loser = d.version("loser")
	if flags&conflictHasWinner != 0 {
		c.WinnerItem = d.item("winner item")
	}
	if flags&conflictHasLoser != 0 {
		c.LoserItem = d.item("loser item")
	}
	c.Region = string(d.bytes("region"))
	c.Source = string(d.bytes("source"))
	if d.err == nil {
		ns, n := binary.Varint(d.b)
		if n <= 0 {
			d.fail("detected at: bad varint")
		} else {
			d.b = d.b[n:]
			c.DetectedAt = time.Unix(0, ns)
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: conflict %d: %w", ErrCorrupt, seq, d.err)
	}
	return c, nil
}

// DefaultConflictsMax is how many entries Conflicts returns when limit is not
// positive.
const DefaultConflictsMax = 256

// Conflicts returns up to limit entries of the conflict log with Seq >
// afterSeq, in Seq order. As with Changes, a reader that passes the last Seq
// it has seen never skips an entry: they are numbered in commit order.
func (db *DB) Conflicts(afterSeq uint64, limit int) ([]*Conflict, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	if limit <= 0 {
		limit = DefaultConflictsMax
	}
	if afterSeq == math.MaxUint64 {
		return nil, nil
	}
	var out []*Conflict
	err := db.bdb.View(func(txn *badger.Txn) error {
		var err error
		out, err = readSeqLog(txn, prefixConflict, afterSeq, math.MaxUint64, limit, decodeConflict)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read conflicts: %w", err)
	}
	return out, nil
}

// ConflictCount returns the number of entries in the conflict log. It reads
// memory only (counted at Open, kept up to date by commits).
func (db *DB) ConflictCount() int64 { return db.conflictCount.Load() }

// loadConflicts counts the conflict log and finds its last sequence number,
// keys only.
func (db *DB) loadConflicts() error {
	var count int64
	var last uint64
	err := db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte{prefixConflict}
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) == 9 {
				last = max(last, binary.BigEndian.Uint64(k[1:]))
			}
			count++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count conflicts: %w", err)
	}
	db.conflictSeq = last
	db.conflictCount.Store(count)
	return nil
}
