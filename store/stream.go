package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/store/attr"
)

// Streams: the store half of DynamoDB Streams (see doc.go, "Streams").

// Stream view types, as DynamoDB names them.
const (
	StreamKeysOnly        = "KEYS_ONLY"
	StreamNewImage        = "NEW_IMAGE"
	StreamOldImage        = "OLD_IMAGE"
	StreamNewAndOldImages = "NEW_AND_OLD_IMAGES"
)

// Stream event names, as DynamoDB names them.
const (
	EventInsert = "INSERT"
	EventModify = "MODIFY"
	EventRemove = "REMOVE"
)

// ErrStreamNotFound is returned for a stream or shard the store does not
// hold (never existed, or trimmed after its retention).
var ErrStreamNotFound = errors.New("store: stream not found")

// ErrTrimmed is returned by StreamRecords for a position older than the
// stream's trim horizon: records after it have been deleted.
var ErrTrimmed = errors.New("store: stream records trimmed")

// StreamSpec is a table's enabled stream. A table without a stream has a nil
// Table.Stream. To enable one, set a StreamSpec with ID zero in CreateTable
// or UpdateTable: the store assigns the ID, records the stream and opens its
// first shard in the same transaction. Setting Stream to nil, or to a spec
// with ID zero again, disables the current stream (its records stay
// readable until the retention trims them).
type StreamSpec struct {
	// ViewType is one of the Stream* view types.
	ViewType string
	// Label names the stream in its ARN (DynamoDB uses the enabling time).
	// Defaulted by the store when empty.
	Label string
	// ID is assigned by the store; it prefixes the stream's keys.
	ID uint64
}

// StreamInfo is a stream's metadata: what DescribeStream and ListStreams
// show. It outlives the table's stream (and the table) until retention.
type StreamInfo struct {
	ID         uint64
	Table      string
	TableID    uint64
	Label      string
	ViewType   string
	Hash       KeyElement
	Range      *KeyElement
	CreatedAt  time.Time
	DisabledAt time.Time // zero while enabled
	// Shard is the index of the stream's newest shard.
	Shard uint32
}

// Enabled reports whether the stream still receives records.
func (s *StreamInfo) Enabled() bool { return s.DisabledAt.IsZero() }

// Shard is one shard of a stream: the records whose sequence numbers lie in
// [Start, End]. A shard is opened at a sequence number allocated at its
// commit, and closed (End set) when it rolls over to a child or the stream
// is disabled; every record of the stream committed before that lies below
// End, every record after it in the child.
type Shard struct {
	Index uint32
	// Parent is the index of the shard this one continues; -1 for the
	// stream's first.
	Parent    int64
	Start     uint64
	End       uint64 // 0 while open
	CreatedAt time.Time
	ClosedAt  time.Time
}

// Open reports whether the shard still receives records.
func (s Shard) Open() bool { return s.End == 0 }

// StreamRecord is one change as a stream holds it.
type StreamRecord struct {
	// Seq is the record's sequence number: increasing within the stream
	// (and so within a shard), in commit order.
	Seq uint64
	// EventName is EventInsert, EventModify or EventRemove.
	EventName string
	// Keys holds the item's key attributes; NewImage and OldImage are set
	// as the stream's view type asks (nil otherwise, and nil when there is
	// none: no OldImage on an INSERT, no NewImage on a REMOVE).
	Keys, NewImage, OldImage attr.Item
	// CreatedAt is the real wall time of the commit that applied the
	// change in this region.
	CreatedAt time.Time
	// SizeBytes is the size of the keys and images held.
	SizeBytes int
	// OriginRegion is the region where the write was made (the Region of
	// its version): this region for a local write.
	OriginRegion string
	// OverwroteLocal marks a replicated change that won last-writer-wins
	// over a concurrent write made in this region: the local write's own
	// record precedes this one, and its value was lost.
	OverwroteLocal bool
	// TTL marks a delete made by the time-to-live sweeper.
	TTL bool
}

// pendingRecord is a stream record waiting for its sequence number at
// commit.
type pendingRecord struct {
	stream uint64
	rec    *StreamRecord
}

// pendingShard is a shard boundary waiting for its sequence number at
// commit: the open shard of stream (if any) closes just below it, and, when
// open is set, a child opens at it.
type pendingShard struct {
	info  *StreamInfo
	close *Shard // the shard to close, nil for a stream's first
	open  bool
}

// streamEvent records the change from old to rec (an item write) in t's
// stream, if t has one, within the transaction. A write that leaves a live
// item unchanged writes no record (DynamoDB's rule); overwroteLocal and ttl
// are the record's markers.
func (tx *Tx) streamEvent(t *Table, old, rec Record, overwroteLocal, ttl bool) {
	spec := t.Stream
	if spec == nil || spec.ID == 0 {
		return
	}
	var r StreamRecord
	switch {
	case rec.Exists() && old.Exists():
		if attr.ItemsEqual(old.Item, rec.Item) {
			return
		}
		r.EventName = EventModify
	case rec.Exists():
		r.EventName = EventInsert
	case old.Exists():
		r.EventName = EventRemove
	default:
		return // a tombstone replacing a tombstone
	}
	src := rec.Item
	if src == nil {
		src = old.Item
	}
	r.Keys = keyOf(src, t.schema())
	r.SizeBytes = attr.ItemSize(r.Keys)
	if spec.ViewType == StreamNewImage || spec.ViewType == StreamNewAndOldImages {
		r.NewImage = rec.live()
		r.SizeBytes += attr.ItemSize(r.NewImage)
	}
	if spec.ViewType == StreamOldImage || spec.ViewType == StreamNewAndOldImages {
		r.OldImage = old.live()
		r.SizeBytes += attr.ItemSize(r.OldImage)
	}
	r.OriginRegion = rec.Version.Region
	r.OverwroteLocal, r.TTL = overwroteLocal, ttl
	tx.streamRecs = append(tx.streamRecs, pendingRecord{stream: spec.ID, rec: &r})
}

// logStreams numbers and writes the transaction's stream records and shard
// boundaries; the caller holds commitMu (see doc.go, "Streams").
func (tx *Tx) logStreams(now time.Time) error {
	db := tx.db
	for _, p := range tx.streamRecs {
		seq, err := db.nextStreamSeq()
		if err != nil {
			return err
		}
		p.rec.Seq, p.rec.CreatedAt = seq, now
		if err := tx.set(streamRecordKey(p.stream, seq), appendStreamRecord(nil, p.rec)); err != nil {
			return fmt.Errorf("log stream record: %w", err)
		}
	}
	for _, p := range tx.streamShards {
		seq, err := db.nextStreamSeq()
		if err != nil {
			return err
		}
		if c := p.close; c != nil {
			c.End, c.ClosedAt = seq-1, now
			if err := tx.putJSON(streamShardKey(p.info.ID, c.Index), c); err != nil {
				return err
			}
		}
		if p.open {
			sh := Shard{Index: 0, Parent: -1, Start: seq, CreatedAt: now}
			if p.close != nil {
				sh.Index, sh.Parent = p.close.Index+1, int64(p.close.Index)
			}
			p.info.Shard = sh.Index
			if err := tx.putJSON(streamShardKey(p.info.ID, sh.Index), sh); err != nil {
				return err
			}
		}
		if err := tx.putJSON(streamMetaKey(p.info.ID), p.info); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) putJSON(k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %x: %w", k, err)
	}
	return tx.set(k, b)
}

// nextStreamSeq returns the next stream sequence number (never 0).
func (db *DB) nextStreamSeq() (uint64, error) {
	for {
		n, err := db.streamSeq.Next()
		if err != nil {
			return 0, fmt.Errorf("next stream sequence: %w", err)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// syncStream brings the streams in line with a metadata change from cur
// (nil: the table is being created) to nt (nil: it is being deleted): it
// disables cur's stream if nt no longer has it, and creates nt's if it is
// new (ID zero), assigning its ID. now is the enabling or disabling time.
func (tx *Tx) syncStream(cur, nt *Table, now time.Time) error {
	var old *StreamSpec
	if cur != nil {
		old = cur.Stream
	}
	var want *StreamSpec
	if nt != nil {
		want = nt.Stream
	}
	if old != nil && old.ID != 0 && (want == nil || want.ID != old.ID) {
		info, err := tx.streamInfo(old.ID)
		if err != nil {
			return err
		}
		if info.Enabled() {
			sh, err := tx.shard(info.ID, info.Shard)
			if err != nil {
				return err
			}
			info.DisabledAt = now
			tx.streamShards = append(tx.streamShards, &pendingShard{info: info, close: &sh})
		}
	}
	if want == nil || want.ID != 0 {
		return nil
	}
	switch want.ViewType {
	case StreamKeysOnly, StreamNewImage, StreamOldImage, StreamNewAndOldImages:
	default:
		return fmt.Errorf("%w: stream view type %q", ErrInvalidTable, want.ViewType)
	}
	id, err := nextID(tx.txn, keyNextStream)
	if err != nil {
		return fmt.Errorf("assign stream id: %w", err)
	}
	spec := *want
	spec.ID = id
	if spec.Label == "" {
		spec.Label = now.UTC().Format("2006-01-02T15:04:05.000")
	}
	nt.Stream = &spec
	info := &StreamInfo{ID: id, Table: nt.Name, TableID: nt.ID, Label: spec.Label, ViewType: spec.ViewType,
		Hash: nt.Hash, Range: nt.Range, CreatedAt: now}
	tx.streamShards = append(tx.streamShards, &pendingShard{info: info, open: true})
	return nil
}

// streamInfo reads a stream's metadata in the transaction.
func (tx *Tx) streamInfo(id uint64) (*StreamInfo, error) {
	var info StreamInfo
	if err := getJSON(tx.txn, streamMetaKey(id), &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// shard reads one shard's metadata in the transaction.
func (tx *Tx) shard(stream uint64, index uint32) (Shard, error) {
	var sh Shard
	err := getJSON(tx.txn, streamShardKey(stream, index), &sh)
	return sh, err
}

// getJSON decodes the JSON value at k; ErrStreamNotFound if there is none.
func getJSON(txn *badger.Txn, k []byte, v any) error {
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("%w: key %x", ErrStreamNotFound, k)
	}
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) error {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("%w: %x: %w", ErrCorrupt, k, err)
		}
		return nil
	})
}

// Stream record format:
//
//	format(1)=1 | flags(1) | event(1) | varint createdAt | uvarint size |
//	uvarint len | origin | len(4) | keys | [len(4) | new] | [len(4) | old]
//
// flags: bit 0 NewImage, bit 1 OldImage, bit 2 OverwroteLocal, bit 3 TTL.
// event: 1 INSERT, 2 MODIFY, 3 REMOVE. The sequence number is the key's.
const (
	streamRecFormat byte = 1

	streamHasNew    byte = 1 << 0
	streamHasOld    byte = 1 << 1
	streamOverwrote byte = 1 << 2
	streamTTL       byte = 1 << 3
)

var eventCodes = map[string]byte{EventInsert: 1, EventModify: 2, EventRemove: 3}
var eventNames = [...]string{1: EventInsert, 2: EventModify, 3: EventRemove}

func appendStreamRecord(dst []byte, r *StreamRecord) []byte {
	var flags byte
	if r.NewImage != nil {
		flags |= streamHasNew
	}
	if r.OldImage != nil {
		flags |= streamHasOld
	}
	if r.OverwroteLocal {
		flags |= streamOverwrote
	}
	if r.TTL {
		flags |= streamTTL
	}
	if dst == nil {
		// Items encode in about their DynamoDB size: one allocation.
		dst = make([]byte, 0, 64+len(r.OriginRegion)+r.SizeBytes+r.SizeBytes/4)
	}
	dst = append(dst, streamRecFormat, flags, eventCodes[r.EventName])
	dst = binary.AppendVarint(dst, r.CreatedAt.UnixNano())
	dst = binary.AppendUvarint(dst, uint64(r.SizeBytes))
	dst = binary.AppendUvarint(dst, uint64(len(r.OriginRegion)))
	dst = append(dst, r.OriginRegion...)
	dst = appendItem32(dst, r.Keys)
	if r.NewImage != nil {
		dst = appendItem32(dst, r.NewImage)
	}
	if r.OldImage != nil {
		dst = appendItem32(dst, r.OldImage)
	}
	return dst
}

// appendItem32 appends an item prefixed by its encoded length in 4 bytes,
// encoding it in place.
func appendItem32(dst []byte, it attr.Item) []byte {
	n := len(dst)
	dst = attr.AppendItem(append(dst, 0, 0, 0, 0), it)
	binary.BigEndian.PutUint32(dst[n:], uint32(len(dst)-n-4))
	return dst
}

func decodeStreamRecord(seq uint64, b []byte) (*StreamRecord, error) {
	bad := func(why string) error { return fmt.Errorf("%w: stream record %d: %s", ErrCorrupt, seq, why) }
	if len(b) < 3 || b[0] != streamRecFormat || b[2] == 0 || int(b[2]) >= len(eventNames) {
		return nil, bad("header")
	}
	flags := b[1]
	r := &StreamRecord{Seq: seq, EventName: eventNames[b[2]],
		OverwroteLocal: flags&streamOverwrote != 0, TTL: flags&streamTTL != 0}
	b = b[3:]
	at, n := binary.Varint(b)
	if n <= 0 {
		return nil, bad("time")
	}
	r.CreatedAt = time.Unix(0, at)
	b = b[n:]
	size, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, bad("size")
	}
	r.SizeBytes = int(size)
	b = b[n:]
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return nil, bad("origin")
	}
	r.OriginRegion = string(b[n : n+int(l)])
	b = b[n+int(l):]
	item := func() (attr.Item, error) {
		if len(b) < 4 || uint64(len(b)-4) < uint64(binary.BigEndian.Uint32(b)) {
			return nil, bad("item length")
		}
		l := int(binary.BigEndian.Uint32(b))
		it, err := attr.DecodeItem(b[4 : 4+l])
		b = b[4+l:]
		if err != nil {
			return nil, fmt.Errorf("%w: stream record %d: %w", ErrCorrupt, seq, err)
		}
		return it, nil
	}
	var err error
	if r.Keys, err = item(); err != nil {
		return nil, err
	}
	if flags&streamHasNew != 0 {
		if r.NewImage, err = item(); err != nil {
			return nil, err
		}
	}
	if flags&streamHasOld != 0 {
		if r.OldImage, err = item(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Stream keys (see doc.go): e|m|id stream metadata, e|h|id|shard shard
// metadata, e|r|id|seq records, e|t|id trim horizon.
const (
	streamMeta   byte = 'm'
	streamShards byte = 'h'
	streamRecs   byte = 'r'
	streamTrim   byte = 't'
)

func streamKey(kind byte, id uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, 18), prefixStream, kind), id)
}

func streamMetaKey(id uint64) []byte { return streamKey(streamMeta, id) }

func streamShardKey(id uint64, shard uint32) []byte {
	return binary.BigEndian.AppendUint32(streamKey(streamShards, id), shard)
}

func streamRecordKey(id, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(streamKey(streamRecs, id), seq)
}

func streamTrimKey(id uint64) []byte { return streamKey(streamTrim, id) }
