// Package region runs one region: the process that owns a Badger store,
// serves DynamoDB's API over HTTP on it, and runs the region's background
// loops (the TTL sweeper; the change publisher and the replicators once
// replication is configured).
//
// A Region owns every goroutine it starts. New acquires the resources (the
// store and the listening socket) so that a caller learns of a bad data
// folder or a busy port before anything runs; Run serves until its context
// is cancelled, then stops taking requests, waits for the loops to finish,
// and returns; Close releases the store, last, so that nothing writes to a
// closed database.
//
// Beside the API, on the same listener, a region serves its own endpoints
// (status.go: status, conflicts, digest, links, clock), guarded by
// controlGuard, and its Prometheus metrics at /metrics (region/metrics;
// metrics.go wires them to the store, the API and the replicator). A
// link's backlog is reported by its source (Status.Outbound), where the
// changes wait, not by its destination, which sees nothing while the link
// is cut: an unknown figure is null, never 0.
package region
