package region

import (
	"encoding/json"
	"time"

	"github.com/globaltables/globaltables/region/trigger"
	"github.com/globaltables/globaltables/replicator"
	"github.com/globaltables/globaltables/store"
)

// Paths of the region's own HTTP endpoints, served beside the DynamoDB API
// on the same listener (GET requests; the API is POST only).
const (
	StatusPath    = "/_globaltables/status"
	ConflictsPath = "/_globaltables/conflicts"
	DigestPath    = "/_globaltables/digest"
	// LinksPath serves the inbound links' shapes (GET); PUT
	// LinksPath/<source> with a JSON shaper.Shape reshapes one.
	LinksPath = "/_globaltables/links"
	// ClockPath serves the region's clock skew (GET) and changes it (PUT
	// with {"offset": "-250ms", "drift": "50ppm"}).
	ClockPath = "/_globaltables/clock"
)

// ClockSetting is the body of a PUT to ClockPath.
type ClockSetting struct {
	Offset string `json:"offset"`
	Drift  string `json:"drift"`
}

// Status is what a region reports about itself and its replication, served
// as JSON at StatusPath and shown by `globaltables status`. Durations are in
// milliseconds, as floats, so that scripts need no unit parsing.
type Status struct {
	Region string `json:"region"`
	// PID is the region's process, by which `up` tells its own regions
	// from another program answering on their ports.
	PID       int       `json:"pid"`
	Time      time.Time `json:"time"`
	Endpoint  string    `json:"endpoint"`
	NATS      string    `json:"nats,omitempty"`
	Conflicts int64     `json:"conflicts"`
	// ClockSkewMs is how far the region's clock is from real time now.
	ClockSkewMs float64 `json:"clock_skew_ms"`
	// ClockStepBacks counts the times the region's hybrid logical clock
	// stepped back to its physical clock, having been more than
	// max_clock_skew ahead of it (its clock was corrected after running
	// ahead).
	ClockStepBacks uint64 `json:"clock_step_backs"`
	// Disk is the free space of the store's disk and whether writes are
	// refused for lack of it, or because a flush to it failed
	// (FlushFailed: until the region restarts); absent when the space
	// cannot be measured and no flush failed.
	Disk *store.DiskStatus `json:"disk,omitempty"`
	// Publisher is the state of this region's outbound changes.
	Publisher *PublisherStatus `json:"publisher,omitempty"`
	// Links are the inbound replication links, one per other region.
	Links []LinkStatus `json:"links,omitempty"`
	// Outbound are the outbound links, one per other region, as this
	// region (their source) sees them: how many of its changes each
	// destination has not acknowledged. This is the figure to trust for a
	// link's backlog: it is measured where the changes wait, so it stays
	// right while the link is cut.
	Outbound []OutboundStatus `json:"outbound,omitempty"`
	// Resyncing names the sources a snapshot re-sync is running from.
	Resyncing []string `json:"resyncing,omitempty"`
	// CatchingUp names the tables whose new replica here is being filled.
	CatchingUp []string `json:"catching_up,omitempty"`
	// Rebuilds are the last re-syncs of a table from a peer's snapshot,
	// with what each dropped and kept, and why.
	Rebuilds []RebuildReport `json:"rebuilds,omitempty"`
	// Joins details those fills (one per table in CatchingUp).
	Joins []JoinStatus `json:"joins,omitempty"`
	// Backfills are the index backfills running here.
	Backfills []BackfillStatus `json:"backfills,omitempty"`
	// Triggers are the region's local triggers: their lag and errors.
	Triggers []trigger.Status `json:"triggers,omitempty"`
}

// JoinStatus is a new replica being filled in this region: copied from the
// other replicas' streams, then from a snapshot of Source.
type JoinStatus struct {
	Table  string `json:"table"`
	Source string `json:"source"`
	// Phase is "starting", "replaying streams" or "copying snapshot".
	Phase string `json:"phase"`
	// Items is how many live items the replica holds here now.
	Items int64 `json:"items"`
	// SourceItems is how many the source holds, and Percent the share of
	// them here (at most 99 until the copy is done); both are absent until
	// the source said its count.
	SourceItems *int64    `json:"source_items,omitempty"`
	Percent     *int      `json:"percent,omitempty"`
	Started     time.Time `json:"started"`
	// Resumed is true for a copy an earlier run of the region left
	// unfinished (crash or stop), started again by this run.
	Resumed bool `json:"resumed,omitempty"`
}

// BackfillStatus is an index being built from a table's items.
type BackfillStatus struct {
	Table string `json:"table"`
	Index string `json:"index"`
	// Rows is how many of the table's rows (items and tombstones) this run
	// of the backfill has read; TableItems the table's live items now.
	Rows       int64     `json:"rows"`
	TableItems int64     `json:"table_items"`
	Started    time.Time `json:"started"`
	// Resumed is true for a backfill an earlier run of the region left
	// unfinished, started again from the first row by this run.
	Resumed bool `json:"resumed,omitempty"`
}

// PublisherStatus is the state of the region's change publisher.
type PublisherStatus struct {
	Connected bool   `json:"connected"`
	Backlog   uint64 `json:"backlog"`
	Published uint64 `json:"published"`
	// Held counts the records the stream already held when the publisher
	// started, which it did not send again.
	Held      uint64 `json:"held"`
	LastError string `json:"last_error,omitempty"`
	// StreamError is set while the stream cannot be set up or written, or
	// publishing waits for disk space (DiskFull), since StreamErrorSince.
	StreamError      string    `json:"stream_error,omitempty"`
	StreamErrorSince time.Time `json:"stream_error_since,omitzero"`
	DiskFull         bool      `json:"disk_full,omitempty"`
}

// OutboundStatus is one outbound link, Source (this region) → Dest, as
// its source sees it.
type OutboundStatus struct {
	Dest string `json:"dest"`
	// Pending is the source stream's last sequence minus the ack floor of
	// Dest's consumer: the changes Dest has not acknowledged (it
	// acknowledges after applying). Null when it cannot be measured
	// (Unknown says why): unknown, not zero.
	Pending  *uint64 `json:"pending"`
	LastSeq  uint64  `json:"stream_last_seq"`
	AckFloor uint64  `json:"ack_floor"`
	Unknown  string  `json:"unknown,omitempty"`
}

// LinkStatus is one directed replication link, Source → Dest, as the
// destination region sees it.
type LinkStatus struct {
	Source    string `json:"source"`
	Dest      string `json:"dest"`
	Connected bool   `json:"connected"`
	Cursor    uint64 `json:"cursor"`
	// Pending is what the destination last heard from the source: the
	// messages its consumer had not delivered yet. Null while the link is
	// disconnected, when the destination cannot know; the source's
	// OutboundStatus.Pending is right in every case.
	Pending    *uint64   `json:"pending"`
	Applied    uint64    `json:"applied"`
	Conflicts  uint64    `json:"conflicts"`
	P50Ms      float64   `json:"p50_ms"`
	P99Ms      float64   `json:"p99_ms"`
	MaxMs      float64   `json:"max_ms"`
	P50AllMs   float64   `json:"p50_all_ms"`
	P99AllMs   float64   `json:"p99_all_ms"`
	MaxAllMs   float64   `json:"max_all_ms"`
	Resyncs    int       `json:"resyncs"`
	LastResync time.Time `json:"last_resync,omitzero"`
	// LastError is the link's last failure, at LastErrorAt. Recovered is
	// set once the link worked again after it, at RecoveredAt; the error
	// is dropped a minute after that.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	Recovered   bool      `json:"recovered,omitempty"`
	RecoveredAt time.Time `json:"recovered_at,omitzero"`
	// Waiting ("waiting for us-east-1") is set, since WaitingSince, while
	// the link has not worked yet and its source's server or stream is
	// not there: regions starting together. It is a state, not an error:
	// it reaches LastError only if it lasts a minute.
	Waiting      string    `json:"waiting,omitempty"`
	WaitingSince time.Time `json:"waiting_since,omitzero"`
	Undecodable  uint64    `json:"undecodable,omitempty"`
	Rejected     uint64    `json:"rejected,omitempty"`
	// Shape is the link's shaping ("unshaped", "latency 80ms", "cut").
	Shape string `json:"shape,omitempty"`
	// Stall is set while the link is stopped at a change whose version is
	// beyond max_clock_skew ahead of this region's clock; Stalls counts
	// such stops since the region started.
	Stall  *replicator.Stall `json:"stall,omitempty"`
	Stalls uint64            `json:"stalls"`
}

// setLastError copies l's last error into the status at now: a failure
// stays while it lasts, and for recentError after the link recovered from
// it, marked as recovered; then it is dropped.
func (ls *LinkStatus) setLastError(l replicator.LinkStatus, now time.Time) {
	if l.LastError == "" || l.Recovered() && now.Sub(l.RecoveredAt) > recentError {
		return
	}
	ls.LastError, ls.LastErrorAt = l.LastError, l.LastErrorAt
	if l.Recovered() {
		ls.Recovered, ls.RecoveredAt = true, l.RecoveredAt
	}
}

// ms converts a duration to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Digest is a table's content digest in one region, served at DigestPath.
type Digest struct {
	Region string `json:"region"`
	Table  string `json:"table"`
	Items  int    `json:"items"`
	Digest string `json:"digest"`
}

// ConflictRecord is one entry of a region's conflict log, served as JSON at
// ConflictsPath: a write that last-writer-wins overwrote although its
// writer and the winner's had not seen each other's writes.
type ConflictRecord struct {
	Seq        uint64          `json:"seq"`
	Table      string          `json:"table"`
	Key        json.RawMessage `json:"key"` // DynamoDB JSON
	Winner     string          `json:"winner"`
	Loser      string          `json:"loser"`
	WinnerItem json.RawMessage `json:"winner_item,omitempty"` // absent: the winner is a delete
	LoserItem  json.RawMessage `json:"loser_item,omitempty"`  // absent: the loser is a delete
	// DetectedIn is the region that recorded it; Source the region the
	// incoming write came from.
	DetectedIn string    `json:"detected_in"`
	Source     string    `json:"source"`
	DetectedAt time.Time `json:"detected_at"`
}

// Conflicts is the body served at ConflictsPath.
type Conflicts struct {
	Region  string           `json:"region"`
	Total   int64            `json:"total"`
	Records []ConflictRecord `json:"records"`
}
