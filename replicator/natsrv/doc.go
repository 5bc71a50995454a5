// Package natsrv runs the NATS server with JetStream that a region embeds in
// its own process: the home of the region's change stream, which the other
// regions' replicators read over TCP.
//
// natsrv owns only the server's lifecycle and the options that matter for
// replication; streams and consumers belong to package replicator.
//
// Invariants and why:
//   - JetStream uses file storage under ServerConfig.StoreDir, so a restart
//     of the region on the same data folder keeps its stream and every
//     durable consumer (and their ack floors).
//   - The file store is fsynced every SyncInterval (default 1s, not
//     nats-server's 2 minutes): the publisher trims a change record from the
//     region's store only once the stream acknowledged it longer ago than a
//     few sync intervals (replicator.PublisherConfig.TrimGrace), so a record
//     trimmed is on disk in the stream. Whoever changes one must change the
//     other.
//   - MaxPayload defaults to 8 MiB: a change record holds two images of up
//     to 400 KB and snapshot pages are sized by it.
//   - A server admits only ServerConfig.Users (nkey users with their
//     permissions, from natsauth); it refuses to start without any unless
//     Anonymous is set, which only tests do.
//   - StartServer returns only once the server accepts clients; Shutdown
//     returns only once it has stopped, so the next StartServer on the same
//     StoreDir does not race the old one for its files.
package natsrv
