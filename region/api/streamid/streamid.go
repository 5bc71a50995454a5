// Package streamid writes the identifiers of DynamoDB Streams as the Streams
// API gives them: stream ARNs, shard IDs, sequence numbers and event IDs.
// The Streams API (region/api) and local triggers (region/trigger) both
// render records from the store, and must agree: a Lambda handler run by a
// trigger sees the same eventID and SequenceNumber as a GetRecords caller.
package streamid

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/globaltables/globaltables/store"
)

// ARN is the ARN of one region's stream: the table's ARN, "/stream/", the
// stream's label.
func ARN(region, account string, info *store.StreamInfo) string {
	return "arn:aws:dynamodb:" + region + ":" + account + ":table/" + info.Table + "/stream/" + info.Label
}

// ShardID names a shard as DynamoDB does:
// shardId-<20 digits: creation time in ms>-<8 hex digits: index>.
func ShardID(sh store.Shard) string {
	return fmt.Sprintf("shardId-%020d-%08x", sh.CreatedAt.UnixMilli(), sh.Index)
}

// SequenceNumber writes a sequence number as the Streams API does: 21
// digits, so that string order is numeric order.
func SequenceNumber(seq uint64) string { return fmt.Sprintf("%021d", seq) }

// EventID is a record's globally unique ID, 32 hex digits like DynamoDB's:
// a hash of the region, table, stream label and sequence number.
func EventID(region string, info *store.StreamInfo, seq uint64) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s/%s/%s/%d", region, info.Table, info.Label, seq)
	return hex.EncodeToString(h.Sum(nil)[:16])
}
