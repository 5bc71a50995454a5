package store

import "bytes"

// rowMemo is the item row a transaction last read or wrote, so that reading
// it again in the same transaction costs no Badger lookup and no decoding.
// A write through the API reads its row three times: the caller's read
// (for the condition and the old image), Put's own read of the row it
// replaces, and the read-back of the version the write minted. The first
// two are each a search of every memtable's skiplist and of every level
// below (Badger looks everywhere for the newest version), the third a
// lookup in the transaction's pending writes; each decodes the row. The two
// reads this spares were 3 % of a region's CPU under scripts/bench.sh's
// load, and 30 of a PutItem's 197 allocations (docs/performance.md, round
// 3).
//
// It is exact because a transaction reads one snapshot: a row's value
// changes within the transaction only through its own writes, and every
// write goes through set or del, which forget the memo for their key
// (writeRow then remembers the row it wrote). The Record it returns shares
// its Item and Context with earlier readers of the same row; nothing on the
// write path modifies either (updates clone the item, contexts are merged
// into new maps). A memo hit joins nothing new to the conflict set: the read
// that filled the memo already did.
type rowMemo struct {
	// key is a copy: a caller may build its next key in the buffer of
	// the last one, which would then match it.
	key []byte
	rec Record
	ok  bool
}

// get returns the remembered row at k, if it is the one remembered.
func (m *rowMemo) get(k []byte) (Record, bool) {
	if m.ok && bytes.Equal(m.key, k) {
		return m.rec, true
	}
	return Record{}, false
}

// remember makes rec the row remembered at k.
func (m *rowMemo) remember(k []byte, rec Record) {
	m.key, m.rec, m.ok = append(m.key[:0], k...), rec, true
}

// forget drops the memo if it holds the row at k, which is being written.
func (m *rowMemo) forget(k []byte) {
	if m.ok && bytes.Equal(m.key, k) {
		m.rec, m.ok = Record{}, false
	}
}
