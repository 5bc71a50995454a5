// Package replicator moves a region's change records to NATS JetStream and
// applies the other regions' records, so that all regions converge
// (docs/replication.md is the design; this package implements its
// transport).
//
// It owns:
//   - Publisher: drains the region's change log (ChangeLog, *store.DB) into
//     the stream GT_<region> on the region's own NATS, with message ID
//     <region>/<seq>, and trims records from the log once the stream holds
//     them on disk.
//   - Link: one per source region in every destination: a durable pull
//     consumer repl-<dest> on GT_<source>, applying batches through Applier
//     (*store.DB) and control records through ControlApplier (the region),
//     with the source's cursor kept by the store.
//   - ServeSnapshots / FetchSnapshot: a table's rows (versions and contexts
//     included) paged over request-reply on gt.<region>.snapshot, pages of
//     at most 1 MiB (and the max payload), built from the rows as stored
//     (store.DB.AppendSnapshotPage) and fetched one ahead of the caller's
//     apply; the first page carries the serving
//     region's Provenance (what it had received), which a region rebuilding
//     after a long absence needs (FetchSnapshotProvenance).
//   - CatchUp: a replay of one table's changes still in a source's stream,
//     through an ordered, ephemeral consumer.
//   - Replicator: the one value a region wires and runs, owning the
//     publisher, the snapshot service, a link per peer and the connections
//     to the peers.
//
// It leaves to others: last-writer-wins and the cursor's atomicity with
// the items (store.Apply), what control records mean and when to catch up
// or re-sync (the region), the embedded server (natsrv), configuration and
// signals (cmd).
//
// Invariants, and why:
//   - A record leaves the change log only once the stream acknowledged it
//     more than TrimGrace ago (3 × the server's fsync interval), so a
//     trimmed record is on disk in the stream. On start the publisher asks
//     the stream which records still in the log it holds (by message ID)
//     and sends only the others: nothing is stored twice however long
//     TrimGrace is, and a record the stream lost is sent again.
//   - A link never applies a record whose origin does not match the stream
//     it came from (CheckSubject): it is logged at Error, counted
//     (LinkStatus.Rejected) and skipped, like an undecodable one.
//   - The region never waits for NATS: while it is unreachable the log
//     grows (PublisherStatus.Backlog) and drains once it is back.
//   - The publisher takes the stream's acknowledgements of its publishes
//     when it wakes up for new records, or harvestEvery after its last
//     wake-up, not one wake-up each: only trimming (TrimGrace later) and
//     the status wait for them, and a record is trimmed TrimGrace after
//     its acknowledgement was taken, so never sooner than before.
//   - A link applies a message at most once per cursor: messages at or
//     below the cursor are dropped, the cursor is written in the same
//     transaction as the items it covers (Apply), or right after a control
//     record (SetCursor: ApplyControl is idempotent, so a crash between the
//     two repeats it harmlessly), and a message is acknowledged only after
//     that, at most once per ackEvery (linkack.go: acknowledgements delete
//     nothing, the stream's retention being by limits, so delaying one can
//     only cause a redelivery the cursor drops). The cursor, not the consumer's ack floor, is the truth: on
//     every (re)start the consumer is re-created from cursor+1 if it is
//     missing, ahead of the cursor, or holds deliveries never applied.
//   - A link never skips ahead silently. A delivery lost on the way (the
//     consumer's delivery sequence jumps) restarts it from the cursor; a
//     stream that no longer holds cursor+1 (retention, or a re-created
//     stream) makes it call Resync before continuing from the stream's
//     first message, or stop there if there is none. A message that does
//     not decode is the one thing skipped: logged, counted, the cursor
//     moves past it, so a poison message never wedges a link.
//   - A control record splits a batch: the items before it are applied
//     first, so a source's control records and items are applied in order.
//   - A link stops at an item change its region's clock refuses
//     (LinkConfig.Admit: a version beyond max_clock_skew ahead): the items
//     before it are applied and acknowledged, it is neither applied nor
//     skipped, and LinkStatus.Stall says why until it is admitted (stall.go;
//     docs/replication.md, "Bounded clock").
//   - A dead or unreachable source stalls only its own link; every loop
//     retries forever with capped, jittered exponential backoff, logs a
//     failure once when it starts and once a minute while it lasts, and one
//     "recovered" line when it clears. Before a link first works, a source
//     whose server or stream is not there yet is a wait
//     (LinkStatus.Waiting), not a failure: it becomes LastError only once
//     it has lasted a minute.
//   - Every goroutine is owned: Run methods return nil once ctx ends and
//     only after what they started has stopped.
//
// Latency (LinkStatus) is the destination's wall clock at apply minus the
// origin's wall clock at commit (Change.CommittedAt), over the last minute
// (six 10 s slices of an HDR histogram) and since start.
package replicator
