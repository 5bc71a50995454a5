// Package natsauth holds who may do what on the NATS servers that carry
// replication: each region's NATS identity (an nkey user), the permissions
// a server grants the region that owns it and the regions that read it, and
// how a client connects (identity, TLS, server URLs as nats.go takes them,
// with their secrets kept out of logs).
//
// It leaves to others: running the server (natsrv), the streams and
// consumers themselves (replicator), and where the settings come from
// (cmd's topology).
//
// Invariants and why:
//   - A region's nkey seed is created once, on first start, in its data
//     folder with mode 0600, next to its public key (mode 0644): the public
//     key is what every server needs to know, the seed never leaves the
//     region's host.
//   - On region R's server, R may publish only to its stream's subjects
//     (gt.R.>) and use the JetStream API of its own stream; another region
//     D may only read: its stream info, consumers, messages and acks of
//     GT_R, and requests to R's snapshot service. No one else gets in. So a
//     leaked key of D cannot put a record into R's stream, alter the
//     stream, or answer R's snapshot requests.
//   - Every identity receives only on its own inbox prefix (InboxPrefix), so
//     one region cannot read the replies meant for another.
//   - Secrets (URL passwords and tokens, seeds) are never formatted into an
//     error or a log line: Redact is applied to every URL shown.
package natsauth
