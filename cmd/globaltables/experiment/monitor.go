package experiment

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/region"
)

// Probe timing. A probe follows one acknowledged write of its source
// region and reads it in the destination until the destination holds it;
// a link starts a new probe at most every probeEvery. So as not to load
// the regions it measures, a probe reads nothing for the first half of
// the link's last latency (at most probeSkipMax), then reads every tenth
// of that latency (at least probePollMin and at most probePollMax apart),
// and less often, up to probePollMax, once it has waited twice that
// latency. The measured latency is an upper bound within one poll of the
// truth: about a tenth, and never more than probePollMax.
const (
	probeEvery    = 200 * time.Millisecond
	probePollMin  = 2 * time.Millisecond
	probePollMax  = 50 * time.Millisecond
	probeSkipMax  = 25 * time.Millisecond
	statusEvery   = time.Second
	probeIdleWait = 20 * time.Millisecond
)

// Probe is one measured replication: a write acknowledged in the source
// at Acked was first read in the destination at Seen. Both times are the
// experiment's own clock, so skewed region clocks do not distort it.
type Probe struct {
	Acked time.Time `json:"acked"`
	Seen  time.Time `json:"seen"`
}

// Ms is the probe's latency in milliseconds.
func (p Probe) Ms() float64 { return float64(p.Seen.Sub(p.Acked)) / float64(time.Millisecond) }

// PendingSample is a link's pending changes as its regions reported them;
// Pending is nil when they could not be asked (a region down): unknown,
// not zero.
type PendingSample struct {
	At      time.Time `json:"at"`
	Pending *uint64   `json:"pending"`
}

// Writes is what a monitor follows: the run's acknowledged writes.
type Writes interface {
	LastAcked(region string) *Write
	WriteByID(id string) *Write
}

// Monitor watches a run from outside. For every link from a writing region
// it probes replication latency by following the run's own writes (so it
// measures nothing from before the run), and once a second it reads every
// region's status for the links' pending changes and the conflicts the
// regions detected.
type Monitor struct {
	cfg     Config
	clients map[string]*dynamodb.Client

	mu        sync.Mutex // guards the fields below
	probes    map[[2]string][]Probe
	pending   map[[2]string][]PendingSample
	conflicts map[string]*counter // by region
	lastPend  map[[2]string]*uint64
}

// counter accumulates the increases of a region's conflict count, which
// starts from zero again when the region restarts.
type counter struct {
	last, sum int64
	seen      bool
}

func (c *counter) observe(v int64) {
	if c.seen && v > c.last {
		c.sum += v - c.last
	}
	c.last, c.seen = v, true
}

// NewMonitor returns a monitor of the regions and table of cfg.
func NewMonitor(cfg Config) *Monitor {
	cfg.defaults()
	m := &Monitor{cfg: cfg, clients: map[string]*dynamodb.Client{}, probes: map[[2]string][]Probe{},
		pending: map[[2]string][]PendingSample{}, conflicts: map[string]*counter{}, lastPend: map[[2]string]*uint64{}}
	for r, ep := range cfg.Endpoints {
		m.clients[r] = bench.Client(ep, 4)
	}
	return m
}

// Run monitors until ctx ends and returns once every goroutine it started
// has stopped.
func (m *Monitor) Run(ctx context.Context, ws Writes) {
	var wg sync.WaitGroup
	for _, src := range m.cfg.WriteRegions {
		for dst := range m.cfg.Endpoints {
			if dst == src {
				continue
			}
			wg.Add(1)
			go func(src, dst string) {
				defer wg.Done()
				m.probeLink(ctx, ws, src, dst)
			}(src, dst)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(statusEvery)
		defer t.Stop()
		for {
			m.pollStatus(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	wg.Wait()
}

// probeLink follows src's writes into dst until ctx ends.
func (m *Monitor) probeLink(ctx context.Context, ws Writes, src, dst string) {
	var prev *Write
	var last time.Duration // the link's last measured latency
	for ctx.Err() == nil {
		w := ws.LastAcked(src)
		if w == nil || w == prev {
			if !sleep(ctx, probeIdleWait) {
				return
			}
			continue
		}
		prev = w
		started := time.Now()
		seen, ok := m.await(ctx, ws, dst, w, last)
		if !ok {
			return
		}
		last = max(seen.Sub(w.Acked), 0)
		m.mu.Lock()
		m.probes[[2]string{src, dst}] = append(m.probes[[2]string{src, dst}], Probe{Acked: w.Acked, Seen: seen})
		m.mu.Unlock()
		if !sleep(ctx, time.Until(started.Add(probeEvery))) {
			return
		}
	}
}

// await polls dst until it holds write w or a newer version of its item,
// and returns when the read that found it was sent; ok is false if ctx
// ended first. last is the link's last measured latency, which paces the
// reads (see probeEvery).
func (m *Monitor) await(ctx context.Context, ws Writes, dst string, w *Write, last time.Duration) (time.Time, bool) {
	if !sleep(ctx, time.Until(w.Acked.Add(min(last/2, probeSkipMax)))) {
		return time.Time{}, false
	}
	poll := min(max(last/10, probePollMin), probePollMax)
	for {
		at := time.Now()
		out, err := m.clients[dst].GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(m.cfg.Table),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: w.Key}}})
		if err == nil {
			if v, ok := out.Item["w"].(*types.AttributeValueMemberS); ok {
				if v.Value == w.ID {
					return at, true
				}
				if held := ws.WriteByID(v.Value); held != nil && held.Err == "" && !held.Version.Less(w.Version) {
					return at, true // w, or a write that overwrote it, arrived
				}
			}
		}
		if !sleep(ctx, poll) {
			return time.Time{}, false
		}
		if time.Since(w.Acked) > 2*last {
			poll = min(poll*3/2, probePollMax)
		}
	}
}

// linkReading is one region's report of one link's pending changes;
// fromSource is set when the region is the link's source.
type linkReading struct {
	link       [2]string // source, destination
	pending    *uint64   // nil: the region could not measure it
	fromSource bool
}

// linkReadings returns what region name's status says about the pending
// changes of the links it takes part in.
func linkReadings(name string, st *region.Status) []linkReading {
	var out []linkReading
	for _, l := range st.Links {
		dst := l.Dest
		if dst == "" {
			dst = name
		}
		out = append(out, linkReading{link: [2]string{l.Source, dst}, pending: l.Pending, fromSource: l.Source == name})
	}
	// The source's own measure (stream last sequence minus the
	// destination's ack floor) stays right while the link is cut.
	for _, o := range st.Outbound {
		out = append(out, linkReading{link: [2]string{name, o.Dest}, pending: o.Pending, fromSource: true})
	}
	return out
}

// pollStatus reads every region's status once. A link's pending count
// comes from its source's report when the source gives one (measured at
// the source, it stays right while the link is cut), else from its
// destination's; a link neither could report on is unknown this round.
func (m *Monitor) pollStatus(ctx context.Context) {
	now := time.Now()
	round := map[[2]string]linkReading{}
	for name, ep := range m.cfg.Endpoints {
		var st region.Status
		rctx, cancel := context.WithTimeout(ctx, statusEvery)
		err := region.GetJSON(rctx, ep+region.StatusPath, &st)
		cancel()
		if err != nil {
			continue
		}
		m.mu.Lock()
		c := m.conflicts[name]
		if c == nil {
			c = &counter{}
			m.conflicts[name] = c
		}
		c.observe(st.Conflicts)
		m.mu.Unlock()
		for _, r := range linkReadings(name, &st) {
			if prev, ok := round[r.link]; ok && prev.pending != nil && (prev.fromSource || r.pending == nil) {
				continue // a better reading of this link is in already
			}
			round[r.link] = r
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range m.pending {
		if _, ok := round[id]; !ok {
			round[id] = linkReading{link: id} // no region could say: unknown
		}
	}
	for id, r := range round {
		m.pending[id] = append(m.pending[id], PendingSample{At: now, Pending: r.pending})
		m.lastPend[id] = r.pending
	}
}

// Now returns the conflicts detected so far (the most any one region
// detected since the monitor started) and the changes pending on all
// links at the last reading; known is false when some link's pending count
// is unknown.
func (m *Monitor) Now() (conflicts int64, pending uint64, known bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.conflicts {
		conflicts = max(conflicts, c.sum)
	}
	known = len(m.lastPend) > 0
	for _, p := range m.lastPend {
		if p == nil {
			known = false
			continue
		}
		pending += *p
	}
	return conflicts, pending, known
}

// Links returns what the monitor measured on each link, sorted by link;
// Analyse windows it.
func (m *Monitor) Links() []LinkSeries {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := map[[2]string]bool{}
	for id := range m.probes {
		ids[id] = true
	}
	for id := range m.pending {
		ids[id] = true
	}
	out := make([]LinkSeries, 0, len(ids))
	for id := range ids {
		out = append(out, LinkSeries{Source: id[0], Dest: id[1],
			Probes:  append([]Probe(nil), m.probes[id]...),
			Pending: append([]PendingSample(nil), m.pending[id]...)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Dest < out[j].Dest
	})
	return out
}

// sleep waits d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
