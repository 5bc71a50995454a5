package shaper

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// Packet loss cannot be shown to a TCP stream as missing bytes: TCP
// retransmits what the network lost, and the application sees the same
// bytes, later. So the shaper models loss at the level the stream sees it:
// a lost segment, and everything behind it, arrives one retransmission
// timeout later.
//
// The model, per direction of a connection:
//   - The data passing the proxy is cut into segments of MSS bytes (the
//     Ethernet MSS, 1460). Each is lost with probability P.
//   - The segments before the first lost one of a chunk pass at once; the
//     lost one and the rest of the chunk arrive one RTO after they would
//     have, and every chunk behind them waits, since a stream delivers in
//     order (head-of-line blocking). One RTO recovers every loss in the
//     held chunk, as selective acknowledgement would. A chunk lost while
//     it waited behind another is retransmitted one RTO after it was sent,
//     not after the one before it arrived: holds overlap, as real
//     retransmissions do.
//   - The retransmission is lost with probability P too, and the next one
//     comes twice as late (exponential backoff, capped at Linux's
//     TCP_RTO_MAX of 120 s).
//   - RTO follows the path: its round trip (the link's latency plus the
//     reverse link's) plus Linux's minimum RTO, 200 ms (tcp_rto_min), or
//     four times the round trip's mean deviation when the jitter makes that
//     larger. Linux sets RTO = SRTT + max(RTTVAR, tcp_rto_min).
//
// What it leaves out: fast retransmit (a loss inside a long burst is
// recovered by duplicate ACKs in about one round trip, sooner than here),
// tail loss probes, and congestion control (a real sender halves its window
// after a loss, so a lossy bulk transfer is slower than here).

const (
	// lossToxicType is the toxiproxy type name of the loss model.
	lossToxicType = "globaltables_loss"
	// MinRTO is Linux's minimum retransmission timeout (tcp_rto_min).
	MinRTO = 200 * time.Millisecond
	// MaxRTO is Linux's maximum retransmission timeout (TCP_RTO_MAX).
	MaxRTO = 120 * time.Second
	// SegmentBytes is the segment size of the model: the MSS of a
	// 1500-byte Ethernet MTU.
	SegmentBytes = 1460
)

// registerOnce registers the loss toxic with toxiproxy, whose toxic types
// live in a process-wide registry.
var registerOnce sync.Once

func registerLoss() {
	registerOnce.Do(func() { toxics.Register(lossToxicType, new(lossToxic)) })
}

// RTO returns the retransmission timeout of a path whose one-way delays
// are fwd and back, each varied by up to its jitter.
func RTO(fwd, back Shape) time.Duration {
	rtt := fwd.Latency + back.Latency
	// The mean deviation of a delay uniform in ±J is J/2; Linux's RTTVAR
	// term is four mean deviations.
	variation := 2 * (fwd.Jitter + back.Jitter)
	return min(rtt+max(MinRTO, variation), MaxRTO)
}

// lossToxic holds lost segments back for a retransmission timeout (see the
// model above). Toxiproxy decodes it from JSON attributes.
type lossToxic struct {
	// Percent is the chance that a segment is lost, 0 to 100.
	Percent float64 `json:"percent"`
	// RTOMs is the retransmission timeout, in milliseconds.
	RTOMs int64 `json:"rto_ms"`
}

// GetBufferSize lets chunks queue behind a held one, as they would in the
// receiver's buffer, instead of stopping the toxics before this one.
func (t *lossToxic) GetBufferSize() int { return 1024 }

// lost reports whether one transmission of a segment is lost.
func (t *lossToxic) lost() bool { return rand.Float64()*100 < t.Percent }

// firstLost returns the offset of the first lost segment of data, or -1.
func (t *lossToxic) firstLost(data []byte) int {
	for off := 0; off < len(data); off += SegmentBytes {
		if t.lost() {
			return off
		}
	}
	return -1
}

// hold returns how long a lost segment takes to arrive after it was first
// sent: an RTO, then twice as long for each retransmission lost too.
func (t *lossToxic) hold() time.Duration {
	rto := time.Duration(t.RTOMs) * time.Millisecond
	total := rto
	for t.lost() && total < time.Hour {
		rto = min(2*rto, MaxRTO)
		total += rto
	}
	return total
}

// Pipe passes chunks on, holding back the part of a chunk from its first
// lost segment on. A reshape interrupts it: a held part then goes on at
// once, so that no data is dropped.
func (t *lossToxic) Pipe(stub *toxics.ToxicStub) {
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			off := t.firstLost(c.Data)
			if off < 0 {
				stub.Output <- c
				continue
			}
			if off > 0 {
				stub.Output <- &stream.StreamChunk{Data: c.Data[:off], Timestamp: c.Timestamp}
			}
			// The toxic comes first in its chain: the chunk's timestamp is
			// when the proxy read it, the segment's first sending. It goes
			// on stamped with its last one, which the latency toxic after
			// this one delays.
			resent := c.Timestamp.Add(t.hold())
			held := &stream.StreamChunk{Data: c.Data[off:], Timestamp: resent}
			timer := time.NewTimer(time.Until(resent))
			select {
			case <-timer.C:
				stub.Output <- held
			case <-stub.Interrupt:
				timer.Stop()
				stub.Output <- held
				return
			}
		}
	}
}
