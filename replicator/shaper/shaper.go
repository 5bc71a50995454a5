// Package shaper puts replication links through TCP proxies that can delay,
// throttle, lose, stall or cut them, so that the lab can show what latency,
// jitter, narrow or lossy links and partitions do to replication.
//
// The proxies are Shopify's toxiproxy, run in-process: each destination
// region runs one proxy per source region, and its replicator reaches the
// source's NATS server through it. A link's shape can change at any time;
// the connections through the proxy stay up, except for a cut, which closes
// them and refuses new ones until the link is healed (dropping bytes inside a
// live connection instead would corrupt the NATS protocol).
//
// A connection through a proxy carries both directions of a path: the
// source's data to the destination (toxiproxy's "downstream" stream: from
// the upstream server, the source's NATS, to the client, the destination's
// replicator), and the destination's pull requests and acknowledgements to
// the source ("upstream": from the client to the server). The first is
// shaped by the link's own shape (Set), the second by the reverse link's
// (SetReturn: the shape of the link dest → source), so that a pair of
// regions shaped 80 ms each way has a round trip of 160 ms, as a real path
// has. A cut, a stall and a reset belong to the link's connection as a
// whole; the return shape gives only its latency, jitter, bandwidth and
// loss. Loss is a model (loss.go).
package shaper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrUnknownLink is returned for a link the shaper does not hold.
var ErrUnknownLink = errors.New("shaper: no such link")

// Shape is how a link behaves. The zero Shape is an unshaped link.
type Shape struct {
	// Latency is the one-way delay added to every chunk of data from the
	// source to the destination; Jitter varies it by up to that much
	// either way. Millisecond resolution.
	Latency time.Duration `json:"latency,omitempty"`
	Jitter  time.Duration `json:"jitter,omitempty"`
	// BandwidthKBps caps the data rate from the source to the
	// destination, in KB/s (1 KB = 1000 bytes); 0 is unlimited.
	BandwidthKBps int64 `json:"bandwidth_kbps,omitempty"`
	// LossPercent is the chance, 0 to 100 (not included), that a TCP
	// segment from the source to the destination is lost, modelled as the
	// stream sees it: the segment and the data behind it arrive a
	// retransmission timeout later (loss.go).
	LossPercent float64 `json:"loss_percent,omitempty"`
	// Stall holds all data in both directions while set, without closing
	// connections: the link hangs, as under a black-holed network.
	Stall bool `json:"stall,omitempty"`
	// ResetAfter resets every connection (TCP RST) this long after it
	// opens: a flapping link, which reconnects and is reset again.
	// Millisecond resolution; 0 is off.
	ResetAfter time.Duration `json:"reset_after,omitempty"`
	// Cut closes the link's connections and refuses new ones.
	Cut bool `json:"cut,omitempty"`
}

// String describes the shape briefly, for logs and status.
func (s Shape) String() string {
	if s.Cut {
		return "cut"
	}
	var parts []string
	if s.Latency > 0 {
		p := "latency " + s.Latency.String()
		if s.Jitter > 0 {
			p += "±" + s.Jitter.String()
		}
		parts = append(parts, p)
	}
	if s.BandwidthKBps > 0 {
		parts = append(parts, fmt.Sprintf("%d KB/s", s.BandwidthKBps))
	}
	if s.LossPercent > 0 {
		parts = append(parts, "loss "+strconv.FormatFloat(s.LossPercent, 'g', -1, 64)+"%")
	}
	if s.Stall {
		parts = append(parts, "stalled")
	}
	if s.ResetAfter > 0 {
		parts = append(parts, "reset after "+s.ResetAfter.String())
	}
	if len(parts) == 0 {
		return "unshaped"
	}
	return fmt.Sprint(parts)
}

// Limits of a Shape's values. Larger ones overflow toxiproxy's arithmetic
// (its bandwidth toxic computes Rate*100 and panicked past MaxInt64/100,
// ending the process) or the retransmission timeouts derived from them; no
// lab needs them: a link slower than MaxDelay is a cut.
const (
	MaxBandwidthKBps = 1_000_000_000 // 1 TB/s
	MaxDelay         = 24 * time.Hour
)

// Validate checks the shape's values.
func (s Shape) Validate() error {
	switch {
	case s.Latency < 0 || s.Jitter < 0:
		return errors.New("latency and jitter must not be negative")
	case s.Latency > MaxDelay:
		return fmt.Errorf("latency %v is longer than %v: cut the link instead", s.Latency, MaxDelay)
	case s.BandwidthKBps > MaxBandwidthKBps:
		return fmt.Errorf("bandwidth %d KB/s is above %d KB/s (1 TB/s): leave it out for an unlimited link", s.BandwidthKBps, MaxBandwidthKBps)
	case s.ResetAfter > MaxDelay:
		return fmt.Errorf("reset-after %v is longer than %v", s.ResetAfter, MaxDelay)
	case s.Jitter > s.Latency:
		return errors.New("jitter must not exceed latency")
	case s.BandwidthKBps < 0:
		return errors.New("bandwidth must not be negative")
	case !(s.LossPercent >= 0 && s.LossPercent < 100):
		return errors.New("loss must be a percentage from 0 up to (not including) 100")
	case s.ResetAfter < 0:
		return errors.New("reset-after must not be negative")
	}
	return nil
}

// Shaper owns the proxies of one region's inbound links.
//
// A toxiproxy proxy stops accepting for good after one failed accept (too
// many open files, say) while its listener stays open, so that the link
// through it hangs (issue 7). The shaper watches toxiproxy's log (log.go)
// for that failure and restarts the proxy, with backoff, on the same port.
type Shaper struct {
	log    hclog.Logger
	server *toxiproxy.ApiServer

	mu    sync.Mutex // guards links
	links map[string]*link

	// restart names proxies whose accept loop died; supervise restarts
	// them. supervise is owned by the Shaper: Close ends it (done) and
	// waits for it (wg).
	restart   chan string
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// link is one directed link: a proxy per server of the source (one for a
// single server, one per seed of a cluster), all shaped alike.
type link struct {
	proxies []*toxiproxy.Proxy
	shape   Shape
	// back is the reverse link's shape, given to the data the destination
	// sends the source over the link's connections (SetReturn).
	back Shape
}

// New returns an empty shaper.
func New(log hclog.Logger) *Shaper {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	registerLoss()
	s := &Shaper{log: log, links: map[string]*link{}, restart: make(chan string, 64), done: make(chan struct{})}
	s.server = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), newZerolog(log.Named("toxiproxy"), s.acceptFailed))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.supervise()
	}()
	return s
}

// acceptFailed asks supervise to restart proxy name.
func (s *Shaper) acceptFailed(name string) {
	s.log.Warn("a proxy stopped accepting connections; restarting it", "proxy", name, "cause", acceptFailure)
	select {
	case s.restart <- name:
	default: // full: restarts are already pending
	}
}

// supervise restarts the proxies named on s.restart until Close.
func (s *Shaper) supervise() {
	for {
		select {
		case <-s.done:
			return
		case name := <-s.restart:
			delay := 100 * time.Millisecond
			for {
				t := time.NewTimer(delay)
				select {
				case <-s.done:
					t.Stop()
					return
				case <-t.C:
				}
				err := s.restartProxy(name)
				if err == nil {
					break
				}
				s.log.Warn("restarting a proxy after an accept failure", "link", name, "error", err)
				delay = min(2*delay, 5*time.Second)
			}
		}
	}
}

// restartProxy stops and starts proxy name again on its port, unless it is
// gone or its link is cut on purpose. Its connections are closed; the links
// through it reconnect. A link's proxies are named after it (the first) or
// after it and the server's index (AddServers).
func (s *Shaper) restartProxy(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.links {
		if l.shape.Cut {
			continue
		}
		for _, p := range l.proxies {
			if p.Name != name {
				continue
			}
			p.Stop()
			if err := p.Start(); err != nil {
				return fmt.Errorf("restart proxy %s: %w", name, err)
			}
			s.log.Info("proxy restarted after an accept failure", "proxy", name, "listen", p.Listen)
			return nil
		}
	}
	return nil
}

// Add starts a proxy called name on a free loopback port in front of
// upstream (host:port) and returns the address to dial instead.
func (s *Shaper) Add(name, upstream string) (string, error) {
	return s.AddAt(name, "127.0.0.1:0", upstream)
}

// AddAt is Add with the proxy listening on listen (host:port).
func (s *Shaper) AddAt(name, listen, upstream string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.links[name]; ok {
		return l.proxies[0].Listen, nil
	}
	p := toxiproxy.NewProxy(s.server, name, listen, upstream)
	if err := p.Start(); err != nil {
		return "", fmt.Errorf("start proxy %s: %w", name, err)
	}
	s.links[name] = &link{proxies: []*toxiproxy.Proxy{p}}
	return p.Listen, nil
}

// AddServers is Add for a source reached through several servers (the
// seeds of a NATS cluster): one proxy per upstream, each on a free
// loopback port, shaped together. It returns the addresses to dial, in
// the order of upstreams.
func (s *Shaper) AddServers(name string, upstreams []string) ([]string, error) {
	if len(upstreams) == 0 {
		return nil, errors.New("shaper: no upstream")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.links[name]; ok {
		out := make([]string, len(l.proxies))
		for i, p := range l.proxies {
			out[i] = p.Listen
		}
		return out, nil
	}
	l := &link{}
	out := make([]string, len(upstreams))
	for i, up := range upstreams {
		p := toxiproxy.NewProxy(s.server, fmt.Sprintf("%s#%d", name, i), "127.0.0.1:0", up)
		if err := p.Start(); err != nil {
			for _, q := range l.proxies {
				q.Stop()
			}
			return nil, fmt.Errorf("start proxy %s to server %d: %w", name, i, err)
		}
		l.proxies = append(l.proxies, p)
		out[i] = p.Listen
	}
	s.links[name] = l
	return out, nil
}

// Set gives a link a new shape, effective at once.
func (s *Shaper) Set(name string, shape Shape) error {
	if err := shape.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownLink, name)
	}
	for _, p := range l.proxies {
		if err := shapeProxy(p, shape, l.back); err != nil {
			return err
		}
	}
	l.shape = shape
	s.log.Info("link shaped", "link", name, "shape", shape.String())
	return nil
}

// SetReturn gives the destination's data to the source over link name
// (its pull requests and acknowledgements) the latency, jitter, bandwidth
// and loss of back: the shape of the reverse link, from the destination
// to the source. Its cut, stall and reset are not used: they belong to the
// reverse link's own connections.
func (s *Shaper) SetReturn(name string, back Shape) error {
	if err := back.Validate(); err != nil {
		return err
	}
	back = Shape{Latency: back.Latency, Jitter: back.Jitter, BandwidthKBps: back.BandwidthKBps, LossPercent: back.LossPercent}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownLink, name)
	}
	if l.back == back {
		return nil
	}
	for _, p := range l.proxies {
		if err := shapeProxy(p, l.shape, back); err != nil {
			return err
		}
	}
	l.back = back
	s.log.Info("link's return direction shaped", "link", name, "shape", back.String())
	return nil
}

// Return returns the shape of link name's return direction (SetReturn).
func (s *Shaper) Return(name string) (Shape, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[name]
	if !ok {
		return Shape{}, fmt.Errorf("%w: %s", ErrUnknownLink, name)
	}
	return l.back, nil
}

// shapeProxy gives one proxy the toxics of shape on the source's data
// (downstream) and of back on the destination's (upstream).
func shapeProxy(p *toxiproxy.Proxy, shape, back Shape) error {
	p.Toxics.ResetToxics(context.Background())
	add := func(name, typ, stream string, attrs any) error {
		body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "toxicity": 1.0, "attributes": attrs})
		_, err := p.Toxics.AddToxicJson(bytes.NewReader(body))
		return err
	}
	// Both directions of a lossy path time out alike: RTO follows the
	// round trip, which both latencies make.
	rto := RTO(shape, back)
	for _, d := range []struct {
		stream string
		sh     Shape
	}{{"downstream", shape}, {"upstream", back}} {
		// Loss first: it delays a lost chunk's sending (loss.go), which
		// the latency then delays like any other.
		if d.sh.LossPercent > 0 {
			if err := add("loss_"+d.stream, lossToxicType, d.stream, map[string]any{
				"percent": d.sh.LossPercent, "rto_ms": rto.Milliseconds()}); err != nil {
				return err
			}
		}
		if d.sh.Latency > 0 {
			if err := add("latency_"+d.stream, "latency", d.stream, map[string]int64{
				"latency": d.sh.Latency.Milliseconds(), "jitter": d.sh.Jitter.Milliseconds()}); err != nil {
				return err
			}
		}
		if d.sh.BandwidthKBps > 0 {
			if err := add("bandwidth_"+d.stream, "bandwidth", d.stream, map[string]int64{"rate": d.sh.BandwidthKBps}); err != nil {
				return err
			}
		}
	}
	if shape.Stall {
		for _, dir := range []string{"upstream", "downstream"} {
			if err := add("stall_"+dir, "timeout", dir, map[string]int64{"timeout": 0}); err != nil {
				return err
			}
		}
	}
	if shape.ResetAfter > 0 {
		if err := add("reset", "reset_peer", "upstream", map[string]int64{"timeout": shape.ResetAfter.Milliseconds()}); err != nil {
			return err
		}
	}
	switch {
	case shape.Cut && p.Enabled:
		p.Stop()
	case !shape.Cut && !p.Enabled:
		// A proxy restarts on the port it listened on before, so the
		// dialling side finds it again.
		if err := p.Start(); err != nil {
			return fmt.Errorf("restart proxy %s: %w", p.Name, err)
		}
	}
	return nil
}

// Shape returns a link's current shape.
func (s *Shaper) Shape(name string) (Shape, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[name]
	if !ok {
		return Shape{}, fmt.Errorf("%w: %s", ErrUnknownLink, name)
	}
	return l.shape, nil
}

// Shapes returns every link's shape, by name.
func (s *Shaper) Shapes() map[string]Shape {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Shape, len(s.links))
	for n, l := range s.links {
		out[n] = l.shape
	}
	return out
}

// Names returns the links' names, sorted.
func (s *Shaper) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.links))
	for n := range s.links {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Close stops every proxy. It is idempotent.
func (s *Shaper) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, l := range s.links {
		for _, p := range l.proxies {
			if p.Enabled {
				p.Stop()
			}
		}
		delete(s.links, n)
	}
}
