package experiment

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/globaltables/globaltables/region"
)

// LinkSample is one reading of a link's latency.
type LinkSample struct {
	At    time.Time `json:"at"`
	P50Ms float64   `json:"p50_ms"`
	P99Ms float64   `json:"p99_ms"`
	MaxMs float64   `json:"max_ms"`
}

// LinkSeries is a link's latency over the experiment.
type LinkSeries struct {
	Source  string       `json:"source"`
	Dest    string       `json:"dest"`
	Samples []LinkSample `json:"samples"`
}

// Sampler reads every region's link latencies once a second while an
// experiment runs.
type Sampler struct {
	endpoints map[string]string
	mu        sync.Mutex // guards series
	series    map[string]*LinkSeries
}

// NewSampler returns a sampler for the regions' endpoints.
func NewSampler(endpoints map[string]string) *Sampler {
	return &Sampler{endpoints: endpoints, series: map[string]*LinkSeries{}}
}

// Run samples until ctx ends.
func (s *Sampler) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for name, ep := range s.endpoints {
			var st region.Status
			if err := getJSON(ctx, ep+region.StatusPath, &st); err != nil {
				continue
			}
			s.mu.Lock()
			for _, l := range st.Links {
				id := l.Source + "->" + name
				ls := s.series[id]
				if ls == nil {
					ls = &LinkSeries{Source: l.Source, Dest: name}
					s.series[id] = ls
				}
				ls.Samples = append(ls.Samples, LinkSample{At: time.Now(), P50Ms: l.P50Ms, P99Ms: l.P99Ms, MaxMs: l.MaxMs})
			}
			s.mu.Unlock()
		}
	}
}

// Series returns the links' series, sorted by link.
func (s *Sampler) Series() []LinkSeries {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LinkSeries, 0, len(s.series))
	for _, ls := range s.series {
		out = append(out, *ls)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source+out[i].Dest < out[j].Source+out[j].Dest })
	return out
}

func getJSON(ctx context.Context, url string, v any) error { return region.GetJSON(ctx, url, v) }

// Convergence waits until every region holds the same content of table,
// and returns how long that took and whether it happened within timeout;
// if not, the regions' digests as last seen.
func Convergence(ctx context.Context, endpoints map[string]string, table string, timeout time.Duration) (time.Duration, bool, map[string]region.Digest) {
	start := time.Now()
	last := map[string]region.Digest{}
	for time.Since(start) < timeout {
		same := true
		var first string
		for name, ep := range endpoints {
			var d region.Digest
			if err := getJSON(ctx, ep+region.DigestPath+"?table="+table, &d); err != nil {
				same = false
				continue
			}
			last[name] = d
			if first == "" {
				first = d.Digest
			} else if d.Digest != first {
				same = false
			}
		}
		if same && len(last) == len(endpoints) {
			return time.Since(start), true, last
		}
		select {
		case <-ctx.Done():
			return time.Since(start), false, last
		case <-time.After(20 * time.Millisecond):
		}
	}
	return time.Since(start), false, last
}

// Result is what an experiment found.
type Result struct {
	Config Config    `json:"config"`
	Began  time.Time `json:"began"`
	Ended  time.Time `json:"ended"`
	// Events are the faults and actions of a drill, for the timeline.
	Events      []Event `json:"events,omitempty"`
	Writes      int     `json:"writes"`
	WriteErrors int     `json:"write_errors"`
	Reads       int     `json:"reads"`
	// StaleReads counts reads that missed a write already acknowledged in
	// some region; StaleP50 and StaleMax say how old the missed write was.
	StaleReads int           `json:"stale_reads"`
	StaleP50   time.Duration `json:"stale_p50_ns"`
	StaleMax   time.Duration `json:"stale_max_ns"`
	// Conflicts are the distinct conflicts the regions recorded; Lost the
	// acknowledged writes of this run among their losers, by the region
	// that made them; WonBy the conflicts by the winner's region.
	Conflicts int            `json:"conflicts"`
	Lost      int            `json:"lost_acknowledged_writes"`
	LostBy    map[string]int `json:"lost_by_region"`
	WonBy     map[string]int `json:"won_by_region"`
	// SkewDecided counts conflicts whose loser was written after the
	// winner in real time: a wall-clock order would have decided them the
	// other way; the skewed timestamps chose the winner.
	SkewDecided int `json:"skew_decided"`
	// ConvergeAfter is the time from the end of the load until every
	// region held the same content.
	ConvergeAfter time.Duration            `json:"converge_after_ns"`
	Converged     bool                     `json:"converged"`
	Digests       map[string]region.Digest `json:"digests"`
	Links         []LinkSeries             `json:"links"`
	Conflicted    []region.ConflictRecord  `json:"conflict_records"`
}

// Analyse turns a recording, the regions' conflict records, the latency
// series and the convergence measurement into a result.
func Analyse(rec *Recording, records []region.ConflictRecord, links []LinkSeries, converge time.Duration, converged bool, digests map[string]region.Digest) *Result {
	res := &Result{Config: rec.Config, Began: rec.Began, Ended: rec.Ended, Links: links, ConvergeAfter: converge, Converged: converged, Digests: digests,
		LostBy: map[string]int{}, WonBy: map[string]int{}}
	byToken := map[string]*Write{}
	for _, w := range rec.Writes {
		res.Writes++
		if w.Err != "" {
			res.WriteErrors++
			continue
		}
		byToken[w.Token] = w
	}
	var stale []time.Duration
	for _, r := range rec.Reads {
		res.Reads++
		if r.Missed != "" {
			res.StaleReads++
			stale = append(stale, r.StaleBy)
		}
	}
	sort.Slice(stale, func(i, j int) bool { return stale[i] < stale[j] })
	res.StaleP50 = percentile(stale, 50)
	if len(stale) > 0 {
		res.StaleMax = stale[len(stale)-1]
	}
	seen := map[string]bool{}
	for _, c := range records {
		id := c.Table + "\x00" + string(c.Key) + "\x00" + c.Loser
		if seen[id] || c.Table != rec.Config.Table || c.DetectedAt.Before(rec.Began) {
			continue // another table's, a duplicate, or an earlier run's
		}
		seen[id] = true
		res.Conflicts++
		res.Conflicted = append(res.Conflicted, c)
		loser, winner := byToken[c.Loser], byToken[c.Winner]
		if winner != nil {
			res.WonBy[winner.Region]++
		}
		if loser == nil {
			continue
		}
		res.Lost++
		res.LostBy[loser.Region]++
		if winner != nil && loser.Start.After(winner.Acked) {
			res.SkewDecided++
		}
	}
	return res
}

// Summary renders a result for a terminal.
func (r *Result) Summary(w io.Writer) {
	fmt.Fprintf(w, "workload: %d writes (%d failed), %d reads, %d keys, %.0f ops/s per region in %v, for %s, seed %d\n",
		r.Writes, r.WriteErrors, r.Reads, r.Config.Keys, r.Config.Rate, r.Config.WriteRegions, r.Ended.Sub(r.Began).Round(time.Millisecond), r.Config.Seed)
	fmt.Fprintf(w, "conflicts: %d; acknowledged writes overwritten: %d %v; won by %v; decided by clock skew: %d\n",
		r.Conflicts, r.Lost, r.LostBy, r.WonBy, r.SkewDecided)
	fmt.Fprintf(w, "stale reads: %d of %d (missed writes were p50 %s, max %s old)\n",
		r.StaleReads, r.Reads, r.StaleP50.Round(time.Microsecond), r.StaleMax.Round(time.Microsecond))
	if r.Converged {
		fmt.Fprintf(w, "converged %s after the load stopped\n", r.ConvergeAfter.Round(time.Millisecond))
	} else {
		fmt.Fprintf(w, "NOT converged %s after the load stopped: digests %v\n", r.ConvergeAfter.Round(time.Millisecond), r.Digests)
	}
	for _, l := range r.Links {
		if len(l.Samples) == 0 {
			continue
		}
		last := l.Samples[len(l.Samples)-1]
		fmt.Fprintf(w, "link %s → %s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (last minute)\n", l.Source, l.Dest, last.P50Ms, last.P99Ms, last.MaxMs)
	}
}
