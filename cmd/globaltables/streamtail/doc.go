// Package streamtail follows replicas' DynamoDB streams live over the
// Streams API, for `globaltables tail`: it finds a table's stream in each
// region, reads its shards in lineage order (a closed shard's child after
// it, a re-enabled stream after the disabled one), and hands each record
// to the caller as a Line: time, event, compact key, and the lab's
// extensions (the record's origin region, and whether a replicated change
// overwrote a concurrent local one), asked for with the
// X-Globaltables-Extensions header.
//
// It talks to the regions' endpoints with plain HTTP and, when the
// topology has access keys, SigV4 signatures: the SDK's Streams client
// would drop the extension fields.
package streamtail
