package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
)

// probeTimeout bounds one probe: a write not seen in its destination by
// then counts as unfinished (reported, never as a latency).
const probeTimeout = 30 * time.Second

// lagProber measures replication lag from outside, as a client sees it
// (issue 12, goal 3): it writes a probe item of its own into a source
// region, and from the moment the PutItem is acknowledged reads it in the
// destination with GetItem, back to back, until a response holds it. The
// lag is the acknowledgement to that response, on this process's clock,
// so it includes the last read's round trip (reported as ReadRTT: the
// measure's resolution).
//
// experiment.Monitor follows a workload's own writes and paces its reads
// to stay out of the way; this prober writes its own keys (a key space of
// their own, "probe-…", in the benchmark's table) so that every probe has
// a known start, and reads back to back so that sub-millisecond lags are
// not rounded up to a poll interval. It keeps its rate modest instead:
// probes start round-robin over the directed links, and a link whose last
// probe is still running skips its turn.
type lagProber struct {
	names   []string
	clients []*dynamodb.Client // by index of names, the prober's own
	table   string
	every   time.Duration // between two probe starts, over all links

	mu      sync.Mutex // guards the fields below
	probes  map[[2]string][]experiment.Probe
	rtts    []time.Duration // the finding read's round trip, per probe
	failed  map[[2]string]int
	writes  int64 // acknowledged probe writes
	reads   int64
	skipped int64
}

// newLagProber returns a prober over every directed link between the
// named regions, starting perLink probes a second on each.
func newLagProber(names []string, clients []*dynamodb.Client, table string, perLink float64) *lagProber {
	links := len(names) * (len(names) - 1)
	return &lagProber{names: names, clients: clients, table: table,
		every:  time.Duration(float64(time.Second) / (perLink * float64(max(links, 1)))),
		probes: map[[2]string][]experiment.Probe{}, failed: map[[2]string]int{}}
}

// Run starts probes until ctx ends, then waits for those under way (each
// at most probeTimeout) and returns.
func (p *lagProber) Run(ctx context.Context) {
	type link struct {
		src, dst int
		busy     atomic.Bool
	}
	var links []*link
	for s := range p.names {
		for d := range p.names {
			if s != d {
				links = append(links, &link{src: s, dst: d})
			}
		}
	}
	if len(links) == 0 {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(p.every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l := links[i%len(links)]
		if !l.busy.CompareAndSwap(false, true) {
			p.mu.Lock()
			p.skipped++
			p.mu.Unlock()
			continue
		}
		wg.Add(1)
		go func(seq int) {
			defer wg.Done()
			defer l.busy.Store(false)
			p.probe(l.src, l.dst, seq)
		}(i)
	}
}

// probe writes one probe item into src and reads it in dst until found.
// It runs on a context of its own, so that the probes under way when the
// load ends still finish.
func (p *lagProber) probe(src, dst, seq int) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	id := [2]string{p.names[src], p.names[dst]}
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("probe-%s-%s-%d", id[0], id[1], seq)}}
	if _, err := p.clients[src].PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(p.table), Item: key}); err != nil {
		p.fail(id)
		return
	}
	acked := time.Now()
	p.mu.Lock()
	p.writes++
	p.mu.Unlock()
	in := &dynamodb.GetItemInput{TableName: aws.String(p.table), Key: key}
	for reads := int64(1); ; reads++ {
		sent := time.Now()
		out, err := p.clients[dst].GetItem(ctx, in)
		seen := time.Now()
		if err == nil && out.Item != nil {
			p.mu.Lock()
			p.probes[id] = append(p.probes[id], experiment.Probe{Acked: acked, Seen: seen})
			p.rtts = append(p.rtts, seen.Sub(sent))
			p.reads += reads
			p.mu.Unlock()
			return
		}
		if ctx.Err() != nil {
			p.mu.Lock()
			p.reads += reads
			p.mu.Unlock()
			p.fail(id)
			return
		}
	}
}

func (p *lagProber) fail(id [2]string) {
	p.mu.Lock()
	p.failed[id]++
	p.mu.Unlock()
}

// lagFigures are the p50, p99 and maximum of a set of probes, in ms; nil
// without probes (unknown).
type lagFigures struct {
	Probes int      `json:"probes"`
	P50Ms  *float64 `json:"p50_ms"`
	P99Ms  *float64 `json:"p99_ms"`
	MaxMs  *float64 `json:"max_ms"`
}

func lagOf(ps []experiment.Probe) lagFigures {
	f := lagFigures{Probes: len(ps)}
	f.P50Ms, f.P99Ms, f.MaxMs = experiment.Quantiles(ps)
	return f
}

// linkLag is the lag measured from outside on one directed link.
type linkLag struct {
	Source string `json:"source"`
	Dest   string `json:"dest"`
	lagFigures
	// Unfinished are probes whose write failed or that were not seen
	// within probeTimeout.
	Unfinished int `json:"unfinished"`
}

// outsideLag is what the prober measured over a step.
type outsideLag struct {
	// All is over every link's probes together.
	All   lagFigures `json:"all_links"`
	Links []linkLag  `json:"links"`
	// ReadRTTP50Ms is the median round trip of the GetItem that found a
	// probe: each lag is an upper bound by up to one such round trip.
	ReadRTTP50Ms *float64 `json:"read_rtt_p50_ms"`
	// Writes and Reads are the prober's acknowledged PutItems and its
	// GetItems, load it added to the regions; Skipped the probe turns a
	// still-busy link passed.
	Writes  int64 `json:"probe_writes"`
	Reads   int64 `json:"probe_reads"`
	Skipped int64 `json:"skipped_turns"`
}

// Result summarises the probes so far, per link (sorted) and over all.
func (p *lagProber) Result() *outsideLag {
	p.mu.Lock()
	defer p.mu.Unlock()
	return summarizeLag(p.names, p.probes, p.failed, p.rtts, p.writes, p.reads, p.skipped)
}

// summarizeLag computes the per-link and overall figures of probes.
func summarizeLag(names []string, probes map[[2]string][]experiment.Probe, failed map[[2]string]int, rtts []time.Duration, writes, reads, skipped int64) *outsideLag {
	out := &outsideLag{Writes: writes, Reads: reads, Skipped: skipped}
	var all []experiment.Probe
	for _, s := range names {
		for _, d := range names {
			if s == d {
				continue
			}
			id := [2]string{s, d}
			out.Links = append(out.Links, linkLag{Source: s, Dest: d, lagFigures: lagOf(probes[id]), Unfinished: failed[id]})
			all = append(all, probes[id]...)
		}
	}
	sort.Slice(out.Links, func(i, j int) bool {
		if out.Links[i].Source != out.Links[j].Source {
			return out.Links[i].Source < out.Links[j].Source
		}
		return out.Links[i].Dest < out.Links[j].Dest
	})
	out.All = lagOf(all)
	if len(rtts) > 0 {
		s := append([]time.Duration(nil), rtts...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		v := float64(s[(len(s)-1)/2]) / float64(time.Millisecond)
		out.ReadRTTP50Ms = &v
	}
	return out
}
