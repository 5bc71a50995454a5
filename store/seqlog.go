package store

import (
	"encoding/binary"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// readSeqLog returns up to limit decoded entries of a sequence-numbered log
// (keys: prefix byte, then the big-endian Seq) with afterSeq < Seq <= upTo,
// in Seq order. The change log and the conflict log are both such logs.
func readSeqLog[T any](txn *badger.Txn, prefix byte, afterSeq, upTo uint64, limit int, decode func(seq uint64, v []byte) (T, error)) ([]T, error) {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = []byte{prefix}
	opts.PrefetchSize = min(limit, 100)
	it := txn.NewIterator(opts)
	defer it.Close()
	start := binary.BigEndian.AppendUint64([]byte{prefix}, afterSeq+1)
	var out []T
	for it.Seek(start); it.Valid() && len(out) < limit; it.Next() {
		item := it.Item()
		k := item.Key()
		if len(k) != 9 {
			return nil, fmt.Errorf("%w: log key %x", ErrCorrupt, k)
		}
		seq := binary.BigEndian.Uint64(k[1:])
		if seq > upTo {
			break
		}
		var e T
		err := item.Value(func(v []byte) error {
			var err error
			e, err = decode(seq, v)
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
