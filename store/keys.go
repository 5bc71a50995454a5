package store

import (
	"encoding/binary"
	"fmt"

	"github.com/cespare/xxhash/v2"

	"github.com/globaltables/globaltables/store/attr"
)

// Key prefixes; see doc.go for the layout.
const (
	prefixItem     byte = 'i'
	prefixIndex    byte = 'x'
	prefixMeta     byte = 'm'
	prefixChange   byte = 'c'
	prefixCursor   byte = 's' // per-source replication cursors
	prefixConflict byte = 'k' // the conflict log
	prefixStream   byte = 'e' // streams: metadata, shards, records (stream.go)
)

// Second bytes of metadata keys.
const (
	metaTable   byte = 't'
	metaDrop    byte = 'd'
	metaNextID  byte = 'n'
	metaSeq     byte = 'q'
	metaStats   byte = 's'
	metaStream  byte = 'r' // stream sequence lease
	nextTableID byte = 't'
	nextIndexID byte = 'x'
	nextStream  byte = 'e'
)

// seqBandwidth is how many change sequence numbers one lease reserves: one
// synchronous lease write per seqBandwidth commits.
const seqBandwidth = 1000

var (
	keyNextTableID = []byte{prefixMeta, metaNextID, nextTableID}
	keyNextIndexID = []byte{prefixMeta, metaNextID, nextIndexID}
	keySeq         = []byte{prefixMeta, metaSeq}
	keyStreamSeq   = []byte{prefixMeta, metaStream}
	keyNextStream  = []byte{prefixMeta, metaNextID, nextStream}
	keyStats       = []byte{prefixMeta, metaStats}
)

func metaTableKey(name string) []byte {
	k := make([]byte, 0, 2+len(name))
	return append(append(k, prefixMeta, metaTable), name...)
}

// metaDropKey marks the rows under prefix p as being purged.
func metaDropKey(p []byte) []byte {
	return append([]byte{prefixMeta, metaDrop}, p...)
}

func changeKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixChange}, seq)
}

// cursorKey is s|source.
func cursorKey(source string) []byte {
	k := make([]byte, 0, 1+len(source))
	return append(append(k, prefixCursor), source...)
}

// conflictKey is k|seq.
func conflictKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixConflict}, seq)
}

// hash16 is the partition hash that orders rows and splits Scan segments.
func hash16(pk []byte) uint16 {
	return uint16(xxhash.Sum64(pk) >> 48)
}

// itemPrefix returns i|tableID, the prefix of every row of the table.
func itemPrefix(tableID uint64) []byte {
	b := make([]byte, 0, 11)
	b = append(b, prefixItem)
	return binary.BigEndian.AppendUint64(b, tableID)
}

// indexTablePrefix returns x|tableID, the prefix of every index entry of the
// table.
func indexTablePrefix(tableID uint64) []byte {
	b := make([]byte, 0, 15)
	b = append(b, prefixIndex)
	return binary.BigEndian.AppendUint64(b, tableID)
}

// indexPrefix returns x|tableID|indexID.
func indexPrefix(tableID uint64, indexID uint32) []byte {
	return binary.BigEndian.AppendUint32(indexTablePrefix(tableID), indexID)
}

// partitionPrefix appends h16|pk to base.
func partitionPrefix(base, pk []byte) []byte {
	b := make([]byte, 0, len(base)+2+len(pk)+32)
	b = append(b, base...)
	b = binary.BigEndian.AppendUint16(b, hash16(pk))
	return append(b, pk...)
}

// itemKey is i|tableID|h16|pk|sk.
func itemKey(tableID uint64, pk, sk []byte) []byte {
	return append(partitionPrefix(itemPrefix(tableID), pk), sk...)
}

// indexKey is x|tableID|indexID|h16(ipk)|ipk|isk|pk|sk.
func indexKey(tableID uint64, indexID uint32, ipk, isk, pk, sk []byte) []byte {
	k := partitionPrefix(indexPrefix(tableID, indexID), ipk)
	k = append(k, isk...)
	k = append(k, pk...)
	return append(k, sk...)
}

// prefixEnd returns the smallest key greater than every key with prefix p, or
// nil if there is none (p is empty or all 0xFF).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// keySuccessor returns the smallest key greater than k: k followed by a zero
// byte.
func keySuccessor(k []byte) []byte {
	s := make([]byte, len(k)+1)
	copy(s, k)
	return s
}

// encodeKeyAttr returns the key encoding of item[el.Name]. ok is false when
// the attribute is absent or not of el's type; a keyed row then cannot exist
// (for the table: an invalid key; for an index: no entry, the index is sparse).
func encodeKeyAttr(dst []byte, item attr.Item, el KeyElement) ([]byte, bool) {
	v, found := item[el.Name]
	if !found || v.Type != el.Type {
		return dst, false
	}
	return appendKey(dst, v)
}

// appendKey is attr.AppendKey, reporting a value it cannot encode (an
// invalid number, a type other than S, N or B): every valid encoding is at
// least one byte long.
func appendKey(dst []byte, v attr.Value) ([]byte, bool) {
	n := len(dst)
	dst = attr.AppendKey(dst, v)
	return dst, len(dst) > n
}

// keySchema is the (hash, range) pair of a table or an index.
type keySchema struct {
	hash KeyElement
	rng  *KeyElement
}

// encode returns enc(hash) and enc(range) (nil without a range key) of item.
func (ks keySchema) encode(item attr.Item) (pk, sk []byte, ok bool) {
	pk, ok = encodeKeyAttr(nil, item, ks.hash)
	if !ok {
		return nil, nil, false
	}
	if ks.rng != nil {
		sk, ok = encodeKeyAttr(nil, item, *ks.rng)
		if !ok {
			return nil, nil, false
		}
	}
	return pk, sk, true
}

// tableKey returns the item row key of item, or ErrInvalidKey.
func tableKey(t *Table, item attr.Item) (key, pk, sk []byte, err error) {
	pk, sk, ok := t.schema().encode(item)
	if !ok {
		return nil, nil, nil, fmt.Errorf("%w: table %s needs %s", ErrInvalidKey, t.Name, t.schema())
	}
	return itemKey(t.ID, pk, sk), pk, sk, nil
}

func (ks keySchema) String() string {
	s := fmt.Sprintf("%s (%s)", ks.hash.Name, ks.hash.Type)
	if ks.rng != nil {
		s += fmt.Sprintf(" and %s (%s)", ks.rng.Name, ks.rng.Type)
	}
	return s
}

// keyOf returns the attributes of item named by the schemas, in one new item.
func keyOf(item attr.Item, schemas ...keySchema) attr.Item {
	k := make(attr.Item, 2*len(schemas))
	for _, ks := range schemas {
		if v, ok := item[ks.hash.Name]; ok {
			k[ks.hash.Name] = v
		}
		if ks.rng != nil {
			if v, ok := item[ks.rng.Name]; ok {
				k[ks.rng.Name] = v
			}
		}
	}
	return k
}
