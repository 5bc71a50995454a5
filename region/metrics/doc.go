// Package metrics defines a region's Prometheus metrics and serves them at
// GET /metrics (docs/metrics.md lists every one).
//
// It owns its own registry, never the global one, so that several regions
// in one process (tests) and libraries that register on the global
// registry stay apart.
//
// Two kinds of metric:
//
//   - Measured as things happen, on paths that must stay cheap: request
//     counts and durations, consumed capacity, replication latency. Each
//     operation's label children are resolved once (Operation), and the
//     replication latency histogram once per link, so that a request or an
//     applied change costs a few atomic adds and no label lookup.
//   - Read at scrape time from figures the region keeps anyway (Source):
//     items and sizes per table, replicated changes and conflicts per
//     source and table, the change-log backlog, and the pending changes of
//     each outbound link, measured at this region's stream.
//
// A figure the region cannot know at scrape time (its NATS is down, a peer
// never read its stream) is left out of the scrape rather than reported
// as 0: an absent series reads as "unknown" in Prometheus, a zero as
// "caught up".
//
// Labels are bounded: operation names come from the server's own list
// (others are "unknown"), status is "ok" or a DynamoDB error code, tables
// and regions are the region's own.
package metrics
