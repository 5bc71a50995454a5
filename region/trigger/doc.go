// Package trigger runs local triggers: the emulation, inside a region
// process, of Lambda event source mappings on a table's DynamoDB stream.
//
// A trigger reads the region's stream of one table straight from the
// store (its stream read API), gathers records into batches (BatchSize,
// BatchingWindow) and delivers each batch as the JSON event a Lambda
// function receives from DynamoDB Streams ({"Records":[…]}), on standard
// input to a command or POSTed to a URL.
//
// What it owns: the triggers' specifications and positions, kept in the
// region's data folder (triggers/<name>.json, each written atomically:
// temporary file, fsync, rename), and their on-failure logs
// (triggers/<name>.failures.jsonl). It leaves the records themselves to
// the store, and the HTTP control endpoint and the topology to region and
// cmd.
//
// Invariants:
//   - Delivery is at least once, in stream order within a shard. The
//     position moves past a record only after the record was delivered or
//     written, fsynced, to the on-failure log. A crash between the two
//     redelivers the batch on the next start: never is a record skipped.
//   - A failed delivery (non-zero exit, non-2xx answer, timeout) is
//     retried MaxRetries times with capped exponential backoff and jitter;
//     then, with Bisect, the batch is split in two and each half goes
//     through the same again, down to single records; what still fails
//     goes to the on-failure log and the trigger moves on, as Lambda does
//     with an on-failure destination.
//   - A shard is followed into its child once exhausted, and a table
//     whose stream was disabled and re-enabled into its new stream.
package trigger
