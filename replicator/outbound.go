package replicator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// outboundTimeout bounds the JetStream requests of one Outbound call: it
// runs on status and metrics requests, which must answer while the
// region's NATS is in trouble.
const outboundTimeout = 2 * time.Second

// Outbound is one outbound link, this region → Dest, as this region (its
// source) sees it: how many of this region's stream messages Dest has not
// acknowledged yet. It is measured at the source, so it stays right while
// the link is cut, when the destination can see nothing.
type Outbound struct {
	Dest string
	// Known is false when the figure cannot be measured (Unknown says
	// why); Pending is then 0 and means nothing.
	Known bool
	// Pending is LastSeq − AckFloor: the stream's messages that Dest's
	// durable consumer has not acknowledged. A destination acknowledges
	// after applying, so it is at least what Dest has not applied (plus
	// what it applied in the last ackEvery, whose acknowledgement waits,
	// and at most one batch more if an acknowledgement was lost, until
	// the next one).
	Pending uint64
	// LastSeq is the stream's last sequence; AckFloor the consumer's
	// acknowledgement floor (a stream sequence).
	LastSeq, AckFloor uint64
	Unknown           string
}

// Outbound measures every peer's backlog on this region's stream: the
// stream's last sequence minus the ack floor of the peer's durable
// consumer (ConsumerName). Two JetStream requests on the region's own
// connection, whatever the number of peers.
func (r *Replicator) Outbound(ctx context.Context) []Outbound {
	out := make([]Outbound, len(r.peers))
	for i, p := range r.peers {
		out[i].Dest = p
	}
	unknown := func(why string) []Outbound {
		for i := range out {
			out[i].Unknown = why
		}
		return out
	}
	if !r.cfg.Conn.IsConnected() {
		return unknown("not connected to this region's NATS")
	}
	ctx, cancel := context.WithTimeout(ctx, outboundTimeout)
	defer cancel()
	js, err := jetstream.New(r.cfg.Conn)
	if err != nil {
		return unknown(err.Error())
	}
	stream, err := js.Stream(ctx, StreamName(r.cfg.Region))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return unknown("this region's stream does not exist yet")
	}
	if err != nil {
		return unknown(fmt.Sprintf("stream info: %v", err))
	}
	last := stream.CachedInfo().State.LastSeq
	floors := map[string]uint64{}
	lister := stream.ListConsumers(ctx)
	for ci := range lister.Info() {
		floors[ci.Name] = ci.AckFloor.Stream
	}
	if err := lister.Err(); err != nil {
		return unknown(fmt.Sprintf("consumer list: %v", err))
	}
	for i := range out {
		o := &out[i]
		o.LastSeq = last
		floor, ok := floors[ConsumerName(o.Dest)]
		switch {
		case !ok:
			o.Unknown = "no consumer: " + o.Dest + " has not read this region's stream yet"
		case floor > last:
			o.Unknown = fmt.Sprintf("consumer's ack floor %d is past the stream's last sequence %d", floor, last)
		default:
			o.Known, o.AckFloor, o.Pending = true, floor, last-floor
		}
	}
	return out
}
