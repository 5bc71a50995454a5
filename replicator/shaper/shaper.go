// Package shaper puts replication links through TCP proxies that can delay,
// throttle, stall or cut them, so that the lab can show what latency, jitter,
// narrow links and partitions do to replication.
//
// The proxies are Shopify's toxiproxy, run in-process: each destination
// region runs one proxy per source region, and its replicator reaches the
// source's NATS server through it. A link's shape can change at any time;
// the connections through the proxy stay up, except for a cut, which closes
// them and refuses new ones until the link is healed (dropping bytes inside a
// live connection instead would corrupt the NATS protocol).
package shaper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// ErrUnknownLink is returned for a link the shaper does not hold.
var ErrUnknownLink = errors.New("shaper: no such link")

// Shape is how a link behaves. The zero Shape is an unshaped link.
type Shape struct {
	// Latency is added to every chunk of data from the source; Jitter
	// varies it by up to that much either way. Millisecond resolution.
	Latency time.Duration `json:"latency,omitempty"`
	Jitter  time.Duration `json:"jitter,omitempty"`
	// BandwidthKBps caps the source's data rate, in KB/s; 0 is unlimited.
	BandwidthKBps int64 `json:"bandwidth_kbps,omitempty"`
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

// Validate checks the shape's values.
func (s Shape) Validate() error {
	switch {
	case s.Latency < 0 || s.Jitter < 0:
		return errors.New("latency and jitter must not be negative")
	case s.Jitter > s.Latency:
		return errors.New("jitter must not exceed latency")
	case s.BandwidthKBps < 0:
		return errors.New("bandwidth must not be negative")
	case s.ResetAfter < 0:
		return errors.New("reset-after must not be negative")
	}
	return nil
}

// Shaper owns the proxies of one region's inbound links.
//
// A toxiproxy proxy stops accepting for good after one failed accept (too
// many open files, say) while its listener stays open, so that the link
// through it hangs (issue 7). The shaper watches toxiproxy's log for that
// failure and restarts the proxy, with backoff, on the same port.
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

type link struct {
	proxy *toxiproxy.Proxy
	shape Shape
}

// New returns an empty shaper.
func New(log hclog.Logger) *Shaper {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	s := &Shaper{log: log, links: map[string]*link{}, restart: make(chan string, 64), done: make(chan struct{})}
	zl := zerolog.New(zerologWriter{l: log.Named("toxiproxy"), acceptFailed: s.acceptFailed}).Level(zerolog.WarnLevel)
	s.server = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zl)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.supervise()
	}()
	return s
}

// acceptFailed asks supervise to restart proxy name.
func (s *Shaper) acceptFailed(name string) {
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
// gone or cut on purpose. Its connections are closed; the links through it
// reconnect.
func (s *Shaper) restartProxy(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[name]
	if !ok || l.shape.Cut {
		return nil
	}
	l.proxy.Stop()
	if err := l.proxy.Start(); err != nil {
		return fmt.Errorf("restart proxy %s: %w", name, err)
	}
	s.log.Info("proxy restarted after an accept failure", "link", name, "listen", l.proxy.Listen)
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
		return l.proxy.Listen, nil
	}
	p := toxiproxy.NewProxy(s.server, name, listen, upstream)
	if err := p.Start(); err != nil {
		return "", fmt.Errorf("start proxy %s: %w", name, err)
	}
	s.links[name] = &link{proxy: p}
	return p.Listen, nil
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
	p := l.proxy
	p.Toxics.ResetToxics(context.Background())
	add := func(name, typ, stream string, attrs any) error {
		body, _ := json.Marshal(map[string]any{"name": name, "type": typ, "stream": stream, "toxicity": 1.0, "attributes": attrs})
		_, err := p.Toxics.AddToxicJson(bytes.NewReader(body))
		return err
	}
	if shape.Latency > 0 {
		if err := add("latency", "latency", "downstream", map[string]int64{
			"latency": shape.Latency.Milliseconds(), "jitter": shape.Jitter.Milliseconds()}); err != nil {
			return err
		}
	}
	if shape.BandwidthKBps > 0 {
		if err := add("bandwidth", "bandwidth", "downstream", map[string]int64{"rate": shape.BandwidthKBps}); err != nil {
			return err
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
			return fmt.Errorf("restart proxy %s: %w", name, err)
		}
	}
	l.shape = shape
	s.log.Info("link shaped", "link", name, "shape", shape.String())
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
		if l.proxy.Enabled {
			l.proxy.Stop()
		}
		delete(s.links, n)
	}
}

// zerologWriter sends toxiproxy's zerolog output to hclog, and reports a
// proxy whose accept loop died (toxiproxy's "Error while accepting client",
// after which it accepts no more) to acceptFailed.
type zerologWriter struct {
	l            hclog.Logger
	acceptFailed func(name string)
}

// acceptFailure is the message toxiproxy logs when its accept loop ends on
// an error (proxy.go, Proxy.server).
const acceptFailure = "Error while accepting client"

func (w zerologWriter) Write(p []byte) (int, error) {
	w.l.Warn(string(bytes.TrimSpace(p)))
	var line struct {
		Message string `json:"message"`
		Name    string `json:"name"`
	}
	if w.acceptFailed != nil && json.Unmarshal(p, &line) == nil && line.Message == acceptFailure && line.Name != "" {
		w.acceptFailed(line.Name)
	}
	return len(p), nil
}
