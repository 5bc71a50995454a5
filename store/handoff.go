package store

import (
	"slices"
	"sync"
)

// The hand-off of committed change records to the publisher.
//
// A commit encodes its change records anyway, to log them; once the commit
// is durable, its tail (Tx.commit) hands those encodings to an in-memory
// buffer, and EncodedChanges serves the publisher from there instead of
// reading the records back from Badger (about 22 µs per wake-up,
// BenchmarkChangesTail). Whenever the buffer cannot serve a read exactly,
// EncodedChanges reads Badger as Changes always did. Why that is safe:
//
//   - Only durable, committed records enter the buffer. A commit hands its
//     records over after its own sync round returned without error, so a
//     commit that failed (logRecords, Badger's commit, its sync round)
//     hands nothing over; a lazy commit (Apply) logs no change records and
//     reaches no tail. Every record in the buffer is therefore one that
//     Badger holds on disk under the same sequence number, with these
//     bytes (the value of its c|seq key).
//   - Nothing beyond durableSeq is served. The tail raises durableSeq
//     under the buffer's mutex as it inserts, and a read serves only
//     records at or below durableSeq (it holds them all, so this only
//     restates the rule Changes follows).
//   - Nothing is skipped and the order is Seq order. Sequence numbers are
//     assigned under commitMu, but commits become durable after their sync
//     round, outside it, in any order: the commit of seq 6 may reach its
//     tail before that of seq 5, or seq 5 may never arrive (a failed
//     commit, a lease skipped at Open). So a read after afterSeq serves
//     from memory only a run that starts at exactly afterSeq+1 and goes on
//     without a hole (afterSeq+1, afterSeq+2, ...). Anything else (the
//     buffer empty while records at or below durableSeq lie beyond
//     afterSeq, or starting later than afterSeq+1) falls back to reading
//     Badger, which returns every committed record in (afterSeq,
//     durableSeq] (see "Invariants" in doc.go). A restart (empty buffer,
//     log on disk), a failed commit's gap, a slow reader whose records
//     were evicted, a record some other caller trimmed: all end in a
//     Badger read, never in a skip. When afterSeq is at or past durableSeq
//     there is nothing to read anywhere, and no Badger read is made.
//   - What is served is what the publisher would have sent. From memory,
//     Data is the logged value itself, AppendChange of the committed
//     Change; from Badger, AppendChange of DecodeChange of that value, as
//     the publisher always built its messages. The two are the same bytes
//     (TestHandoff_ServesTheBytesBadgerHolds compares them).
//   - Memory is bounded. The buffer holds at most handoffMaxRecords records
//     and handoffMaxBytes bytes; beyond that the oldest go, and a reader
//     that wanted them reads Badger. Records at or below the last read's
//     afterSeq are dropped at each read (the publisher never asks for them
//     again), and nothing is kept until the first read: a region without a
//     publisher holds nothing.

// Bounds of the hand-off buffer. A publisher at a steady rate takes each
// record within a wake-up; the bounds matter only while it is stalled (NATS
// down, its window full), when it reads Badger anyway.
const (
	handoffMaxRecords = 1024
	handoffMaxBytes   = 1 << 20
	// handoffOverhead approximates an entry's bytes beyond Data and Table.
	handoffOverhead = 64
)

// EncodedChange is a durable change record as the publisher sends it: its
// sequence number, kind and table (which name its subject), and its binary
// form.
type EncodedChange struct {
	Seq   uint64
	Kind  ChangeKind
	Table string
	// Data is AppendChange of the record. It may be shared with the
	// store: never modify it.
	Data []byte
}

// EncodeChange returns c as EncodedChanges serves it.
func EncodeChange(c *Change) EncodedChange {
	return EncodedChange{Seq: c.Seq, Kind: c.Kind, Table: c.Table, Data: AppendChange(nil, c)}
}

// handoff is the buffer of durable change records not yet read.
type handoff struct {
	mu sync.Mutex // guards the fields below
	// on is set by the first read: until then commits keep nothing.
	on bool
	// recs are in Seq order, without duplicates; holes are possible.
	recs  []EncodedChange
	bytes int
	// maxRecs and maxBytes are the bounds (tests lower them).
	maxRecs, maxBytes int
	// served counts records served from memory, fallbacks the reads that
	// went to Badger (for tests).
	served, fallbacks uint64
}

func entryBytes(e *EncodedChange) int { return len(e.Data) + len(e.Table) + handoffOverhead }

// logChange writes c (numbered) to the change log in tx, keeping its
// encoding for the hand-off.
func (tx *Tx) logChange(c *Change) error {
	enc := AppendChange(nil, c)
	if err := tx.set(changeKey(c.Seq), enc); err != nil {
		return err
	}
	tx.logged = append(tx.logged, EncodedChange{Seq: c.Seq, Kind: c.Kind, Table: c.Table, Data: enc})
	return nil
}

// handOff is called by a commit once its records recs (consecutive
// sequence numbers, in order) are durable: it raises the durability
// watermark to the last of them and, once a reader exists, keeps them for
// it. The caller then wakes the readers (notifyChanges).
func (db *DB) handOff(recs []EncodedChange) {
	if len(recs) == 0 {
		return
	}
	h := &db.handoff
	h.mu.Lock()
	defer h.mu.Unlock()
	db.markDurable(recs[len(recs)-1].Seq)
	if !h.on {
		return
	}
	// Commits mostly arrive in order: find the place from the end.
	i := len(h.recs)
	for i > 0 && h.recs[i-1].Seq > recs[0].Seq {
		i--
	}
	h.recs = slices.Insert(h.recs, i, recs...)
	for i := range recs {
		h.bytes += entryBytes(&recs[i])
	}
	maxRecs, maxBytes := h.maxRecs, h.maxBytes
	if maxRecs == 0 {
		maxRecs, maxBytes = handoffMaxRecords, handoffMaxBytes
	}
	n := 0
	for len(h.recs)-n > 0 && (len(h.recs)-n > maxRecs || h.bytes > maxBytes) {
		h.bytes -= entryBytes(&h.recs[n])
		n++
	}
	h.drop(n)
}

// drop removes the first n records.
func (h *handoff) drop(n int) {
	if n == 0 {
		return
	}
	clear(h.recs[:n]) // let the dropped records' bytes go
	h.recs = h.recs[n:]
	if len(h.recs) == 0 {
		h.recs = nil
	}
}

// take returns the records afterSeq+1, afterSeq+2, ... (at most max, none
// beyond durableSeq) if the buffer holds afterSeq+1; ok is false when
// Badger must be read instead. It first drops the records at or below
// afterSeq.
func (db *DB) take(afterSeq uint64, max int) (out []EncodedChange, ok bool) {
	h := &db.handoff
	h.mu.Lock()
	defer h.mu.Unlock()
	h.on = true
	n := 0
	for n < len(h.recs) && h.recs[n].Seq <= afterSeq {
		h.bytes -= entryBytes(&h.recs[n])
		n++
	}
	h.drop(n)
	// Read under the mutex that the tails hold while they raise it:
	// every record at or below it that a tail handed over is here.
	durable := db.durableSeq.Load()
	if afterSeq >= durable {
		return nil, true // nothing durable beyond afterSeq, anywhere
	}
	next := afterSeq + 1
	for _, e := range h.recs {
		if e.Seq != next || e.Seq > durable || len(out) == max {
			break
		}
		out = append(out, e)
		next++
	}
	if len(out) == 0 {
		h.fallbacks++
		return nil, false
	}
	h.served += uint64(len(out))
	return out, true
}

// EncodedChanges returns up to max durable change records with Seq >
// afterSeq, in Seq order, encoded for publishing: Changes, as the
// publisher sends it. It serves the records that commits handed over in
// memory when they follow afterSeq without a hole, and reads Badger
// otherwise (see the top of handoff.go). Only one reader should use it,
// which passes the last Seq it has: records at or below afterSeq are
// dropped from memory.
func (db *DB) EncodedChanges(afterSeq uint64, max int) ([]EncodedChange, error) {
	if err := db.enter(); err != nil {
		return nil, err
	}
	defer db.exit()
	if max <= 0 {
		max = DefaultChangesMax
	}
	if out, ok := db.take(afterSeq, max); ok {
		return out, nil
	}
	cs, err := db.changes(afterSeq, max)
	if err != nil {
		return nil, err
	}
	out := make([]EncodedChange, len(cs))
	for i, c := range cs {
		out[i] = EncodeChange(c)
	}
	return out, nil
}
