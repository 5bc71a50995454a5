package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/store/attr"
)

// Change is the record of one local write or table-level change, logged in
// its transaction and later published to the other regions. The same shape
// carries remote changes into Apply and snapshot rows out of ExportTable.
type Change struct {
	// Seq orders the records of this region; unique forever, so (region,
	// Seq) can serve as a message ID. Gaps are possible.
	Seq     uint64
	Table   string
	TableID uint64
	// Key holds the item's key attributes.
	Key attr.Item
	// New is the new item; nil for a delete.
	New attr.Item
	// Old is the live item the write replaced; nil if there was none.
	Old     attr.Item
	Deleted bool
	// Version is the write's version; its Region is the origin region.
	Version conflict.Version
	// Prev is the version the write replaced (zero if none), so that a
	// receiver can tell causal succession from a concurrent write.
	Prev conflict.Version
	// Context is the item's causal history after the write (it includes
	// Version): what a receiver compares its own value's context with to
	// tell succession from a conflict.
	Context conflict.Context
	// CommittedAt is the origin's real wall time at commit, for measuring
	// replication latency (not the possibly skewed hybrid clock).
	CommittedAt time.Time
	// Kind says whether the record is an item write or a table control
	// record.
	Kind ChangeKind
	// Floor, on a local item write, is a version such that every write of
	// the origin with a smaller version that ever commits has a smaller
	// Seq: a region that applied the origin's stream up to this record has
	// received every write of the origin below Floor (store.DB.Watermarks).
	// Zero when unknown.
	Floor conflict.Version
	// Control is the payload of a control record (Kind ChangeControl),
	// opaque to the store: the API layer's description of a global table's
	// definition and replicas.
	Control []byte
}

// ChangeKind distinguishes item writes from table control records in the
// change log.
type ChangeKind uint8

const (
	// ChangeItem is an item write or delete.
	ChangeItem ChangeKind = iota
	// ChangeControl is a table-level record: a global table created, a
	// replica added or removed, a setting changed, a replica's status.
	ChangeControl
)

// Change record formats. Version 2 (written):
//
//	format(1)=2 | flags(1) | kind(1) | uvarint seq | uvarint len | table |
//	uvarint tableID | [uvarint len | key item] | [uvarint len | new item] |
//	[uvarint len | old item] | version | prev | [varint committedAt] |
//	context | [uvarint len | control] | [floor]
//
// Version 1 (still decoded: records logged before an upgrade) has no kind
// byte, always a key, no context and no control payload.
//
// flags: bit 0 deleted, bit 1 New present, bit 2 Old present, bit 3
// CommittedAt present (Unix nanoseconds), and in version 2 bit 4 Key present
// (control records have none), bit 5 Control present, bit 6 Floor present. Items are
// attr.AppendItem bytes; the context is conflict.Context.AppendBinary.
const (
	changeFormat1 byte = 1
	changeFormat2 byte = 2

	changeDeleted      byte = 1 << 0
	changeHasNew       byte = 1 << 1
	changeHasOld       byte = 1 << 2
	changeHasCommitted byte = 1 << 3
	changeHasKey       byte = 1 << 4
	changeHasControl   byte = 1 << 5
	changeHasFloor     byte = 1 << 6
	changeFlags1            = changeDeleted | changeHasNew | changeHasOld | changeHasCommitted
	changeFlags2            = changeFlags1 | changeHasKey | changeHasControl | changeHasFloor
)

// AppendChange appends the binary form of c to dst. The form is
// self-describing (it starts with a format byte) and is what crosses the
// network between regions.
func AppendChange(dst []byte, c *Change) []byte {
	var flags byte
	if c.Deleted {
		flags |= changeDeleted
	}
	if c.New != nil {
		flags |= changeHasNew
	}
	if c.Old != nil {
		flags |= changeHasOld
	}
	if !c.CommittedAt.IsZero() {
		flags |= changeHasCommitted
	}
	if c.Key != nil {
		flags |= changeHasKey
	}
	if len(c.Control) > 0 {
		flags |= changeHasControl
	}
	if !c.Floor.IsZero() {
		flags |= changeHasFloor
	}
	dst = append(dst, changeFormat2, flags, byte(c.Kind))
	dst = binary.AppendUvarint(dst, c.Seq)
	dst = binary.AppendUvarint(dst, uint64(len(c.Table)))
	dst = append(dst, c.Table...)
	dst = binary.AppendUvarint(dst, c.TableID)
	if c.Key != nil {
		dst = appendItemField(dst, c.Key)
	}
	if c.New != nil {
		dst = appendItemField(dst, c.New)
	}
	if c.Old != nil {
		dst = appendItemField(dst, c.Old)
	}
	dst = c.Version.AppendBinary(dst)
	dst = c.Prev.AppendBinary(dst)
	if !c.CommittedAt.IsZero() {
		dst = binary.AppendVarint(dst, c.CommittedAt.UnixNano())
	}
	dst = c.Context.AppendBinary(dst)
	if len(c.Control) > 0 {
		dst = binary.AppendUvarint(dst, uint64(len(c.Control)))
		dst = append(dst, c.Control...)
	}
	if !c.Floor.IsZero() {
		dst = c.Floor.AppendBinary(dst)
	}
	return dst
}

// appendItemField appends an item prefixed by its encoded length.
func appendItemField(dst []byte, it attr.Item) []byte {
	enc := attr.AppendItem(nil, it)
	dst = binary.AppendUvarint(dst, uint64(len(enc)))
	return append(dst, enc...)
}

// changeDecoder reads the fields of a change record, remembering the first
// error.
type changeDecoder struct {
	b   []byte
	err error
}

func (d *changeDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrBadChange, fmt.Sprintf(format, args...))
	}
}

func (d *changeDecoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("%s: bad uvarint", what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *changeDecoder) bytes(what string) []byte {
	n := d.uvarint(what + " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("%s: length %d exceeds the %d bytes left", what, n, len(d.b))
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *changeDecoder) item(what string) attr.Item {
	b := d.bytes(what)
	if d.err != nil {
		return nil
	}
	it, err := attr.DecodeItem(b)
	if err != nil {
		d.err = fmt.Errorf("%w: %s: %w", ErrBadChange, what, err)
		return nil
	}
	if it == nil {
		it = attr.Item{}
	}
	return it
}

func (d *changeDecoder) version(what string) conflict.Version {
	if d.err != nil {
		return conflict.Version{}
	}
	v, n, err := conflict.DecodeVersion(d.b)
	if err != nil {
		d.err = fmt.Errorf("%w: %s: %w", ErrBadChange, what, err)
		return conflict.Version{}
	}
	d.b = d.b[n:]
	return v
}

func (d *changeDecoder) context(what string) conflict.Context {
	if d.err != nil {
		return nil
	}
	c, n, err := conflict.DecodeContext(d.b)
	if err != nil {
		d.err = fmt.Errorf("%w: %s: %w", ErrBadChange, what, err)
		return nil
	}
	d.b = d.b[n:]
	if len(c) == 0 {
		return nil
	}
	return c
}

// DecodeChange decodes a record written by AppendChange (either format). It
// rejects anything else (unknown format, flags or kind, truncation, trailing
// bytes) with an error wrapping ErrBadChange, and never panics. The result
// shares no memory with b.
func DecodeChange(b []byte) (*Change, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadChange, len(b))
	}
	format, flags := b[0], b[1]
	known := changeFlags1
	switch format {
	case changeFormat1:
	case changeFormat2:
		known = changeFlags2
		if len(b) < 3 {
			return nil, fmt.Errorf("%w: %d bytes", ErrBadChange, len(b))
		}
	default:
		return nil, fmt.Errorf("%w: unknown format %d", ErrBadChange, format)
	}
	if flags&^known != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrBadChange, flags&^known)
	}
	if format == changeFormat1 {
		flags |= changeHasKey // version 1 always has a key
	}
	b = b[2:]
	c := &Change{Deleted: flags&changeDeleted != 0}
	if format == changeFormat2 {
		c.Kind = ChangeKind(b[0])
		if c.Kind != ChangeItem && c.Kind != ChangeControl {
			return nil, fmt.Errorf("%w: unknown kind %d", ErrBadChange, c.Kind)
		}
		b = b[1:]
	}
	d := &changeDecoder{b: b}
	c.Seq = d.uvarint("seq")
	c.Table = string(d.bytes("table"))
	c.TableID = d.uvarint("table id")
	if flags&changeHasKey != 0 {
		c.Key = d.item("key")
	}
	if flags&changeHasNew != 0 {
		c.New = d.item("new image")
	}
	if flags&changeHasOld != 0 {
		c.Old = d.item("old image")
	}
	c.Version = d.version("version")
	c.Prev = d.version("prev")
	if flags&changeHasCommitted != 0 && d.err == nil {
		ns, n := binary.Varint(d.b)
		if n <= 0 {
			d.fail("committed at: bad varint")
		} else {
			d.b = d.b[n:]
			c.CommittedAt = time.Unix(0, ns)
		}
	}
	if format == changeFormat2 {
		c.Context = d.context("context")
		if flags&changeHasControl != 0 {
			if ctl := d.bytes("control"); d.err == nil {
				if len(ctl) == 0 {
					d.fail("empty control payload flagged present")
				}
				c.Control = bytes.Clone(ctl)
			}
		}
		if flags&changeHasFloor != 0 {
			c.Floor = d.version("floor")
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadChange, len(d.b))
	}
	return c, nil
}

// DefaultChangesMax is how many records Changes returns when max is not
// positive.
const DefaultChangesMax = 256

// Changes returns up to max change records with Seq > afterSeq, in Seq
// order. A snapshot holds a prefix of the log (see doc.go), so a reader that
// passes the last Seq it has seen never skips a record.
func (db *DB) Changes(afterSeq uint64, max int) ([]*Change, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	return db.changes(afterSeq, max)
}

// changes is Changes, for a caller that entered the DB.
func (db *DB) changes(afterSeq uint64, max int) ([]*Change, error) {
	if max <= 0 {
		max = DefaultChangesMax
	}
	if afterSeq == math.MaxUint64 {
		return nil, nil
	}
	var out []*Change
	err := db.bdb.View(func(txn *badger.Txn) error {
		// A record above the durability watermark is committed but its
		// sync round has not completed: its writer notifies once it has.
		durable := db.durableSeq.Load()
		var err error
		out, err = readSeqLog(txn, prefixChange, afterSeq, durable, max, func(seq uint64, v []byte) (*Change, error) {
			c, err := DecodeChange(v)
			if err != nil {
				return nil, fmt.Errorf("change %d: %w", seq, err)
			}
			return c, nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read changes: %w", err)
	}
	// Only records at or below the durability watermark were handed out:
	// a region that published a change and then lost it to a power cut
	// would diverge from the others.
	return out, nil
}

// trimBatch bounds the deletes of one TrimChanges transaction.
const trimBatch = 1000

// TrimChanges removes change records once they are published. Unknown
// sequence numbers are ignored.
func (db *DB) TrimChanges(seqs ...uint64) error {
	if err := db.enter(); err != nil {
		return err
	}
	defer db.exit()
	for len(seqs) > 0 {
		n := min(len(seqs), trimBatch)
		// Trimming frees space in the end (compaction drops the deleted
		// records): a maintenance write.
		if err := db.space.admit(uint64(n)*txBytes(changeKey(0), nil), true); err != nil {
			return fmt.Errorf("trim changes: %w", err)
		}
		err := db.bdb.Update(func(txn *badger.Txn) error {
			for _, s := range seqs[:n] {
				if err := txn.Delete(changeKey(s)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("trim changes: %w", err)
		}
		seqs = seqs[n:]
	}
	return nil
}

// WaitChanges returns a channel that is closed when change records commit
// after the call, or when the DB closes. A publisher takes the channel
// first, then reads Changes, and waits on the channel only if there was
// nothing new: no commit can slip between the read and the wait.
func (db *DB) WaitChanges() <-chan struct{} {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.changed
}

// notifyChanges wakes the callers of WaitChanges.
func (db *DB) notifyChanges() {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return // Close closed the channel already
	}
	close(db.changed)
	db.changed = make(chan struct{})
}

// seqOfChangeKey returns the sequence number of a change record's key.
func seqOfChangeKey(k []byte) uint64 {
	if len(k) < 9 {
		return 0
	}
	return binary.BigEndian.Uint64(k[1:9])
}

// lastChangeSeq returns the sequence number of the last record in the log,
// or 0 if it is empty.
func (db *DB) lastChangeSeq() (uint64, error) {
	var last uint64
	err := db.bdb.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Reverse, opts.PrefetchValues = true, false
		opts.Prefix = []byte{prefixChange}
		it := txn.NewIterator(opts)
		defer it.Close()
		it.Seek(changeKey(math.MaxUint64))
		if it.Valid() {
			last = seqOfChangeKey(it.Item().Key())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("find the last change record: %w", err)
	}
	return last, nil
}
