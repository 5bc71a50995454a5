package experiment

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/globaltables/globaltables/region"
)

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

// Interval is the width of a chart point: each point is that interval's
// own figures.
const Interval = time.Second

// LinkSeries is what was measured on one link during the run: the raw
// probes and pending readings, and, from them, the run's figures.
type LinkSeries struct {
	Source  string          `json:"source"`
	Dest    string          `json:"dest"`
	Probes  []Probe         `json:"probes"`
	Pending []PendingSample `json:"pending"`
	// Points are each Interval's latency percentiles of the probes seen
	// in it; an interval without probes has nil figures (a gap).
	Points []LinkPoint `json:"points"`
	// P50Ms, P99Ms and MaxMs are over the run's probes; nil without any.
	P50Ms *float64 `json:"p50_ms"`
	P99Ms *float64 `json:"p99_ms"`
	MaxMs *float64 `json:"max_ms"`
	// MaxPending is the most changes seen pending on the link, at
	// MaxPendingAt; nil when never known.
	MaxPending   *uint64   `json:"max_pending"`
	MaxPendingAt time.Time `json:"max_pending_at,omitzero"`
}

// LinkPoint is one interval of a link's latency, starting At.
type LinkPoint struct {
	At     time.Time `json:"at"`
	Probes int       `json:"probes"`
	P50Ms  *float64  `json:"p50_ms"`
	P99Ms  *float64  `json:"p99_ms"`
	MaxMs  *float64  `json:"max_ms"`
}

// window keeps the probes and readings between from and to, and computes
// the link's figures from them alone.
func (l LinkSeries) window(from, to time.Time) LinkSeries {
	out := LinkSeries{Source: l.Source, Dest: l.Dest}
	for _, p := range l.Probes {
		if !p.Acked.Before(from) && !p.Seen.After(to) {
			out.Probes = append(out.Probes, p)
		}
	}
	for _, p := range l.Pending {
		if p.At.Before(from) || p.At.After(to) {
			continue
		}
		out.Pending = append(out.Pending, p)
		if p.Pending != nil && (out.MaxPending == nil || *p.Pending > *out.MaxPending) {
			v := *p.Pending
			out.MaxPending, out.MaxPendingAt = &v, p.At
		}
	}
	out.P50Ms, out.P99Ms, out.MaxMs = quantiles(out.Probes)
	n := int(to.Sub(from)/Interval) + 1
	buckets := make([][]Probe, n)
	for _, p := range out.Probes {
		if i := int(p.Seen.Sub(from) / Interval); i >= 0 && i < n {
			buckets[i] = append(buckets[i], p)
		}
	}
	for i, b := range buckets {
		pt := LinkPoint{At: from.Add(time.Duration(i) * Interval), Probes: len(b)}
		pt.P50Ms, pt.P99Ms, pt.MaxMs = quantiles(b)
		out.Points = append(out.Points, pt)
	}
	return out
}

// Quantiles returns the p50, p99 and maximum of probes' latencies in
// milliseconds, or nils for none (unknown, not zero). `bench replication`
// summarises its own probes with it.
func Quantiles(probes []Probe) (p50, p99, mx *float64) { return quantiles(probes) }

// quantiles is Quantiles.
func quantiles(probes []Probe) (p50, p99, mx *float64) {
	if len(probes) == 0 {
		return nil, nil, nil
	}
	ds := make([]time.Duration, len(probes))
	for i, p := range probes {
		ds[i] = max(p.Seen.Sub(p.Acked), 0)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	ms := func(d time.Duration) *float64 { v := float64(d) / float64(time.Millisecond); return &v }
	return ms(percentile(ds, 50)), ms(percentile(ds, 99)), ms(ds[len(ds)-1])
}

// Result is what an experiment found.
type Result struct {
	Config Config    `json:"config"`
	Began  time.Time `json:"began"`
	Ended  time.Time `json:"ended"`
	// Interrupted is set when the run was cancelled (Ctrl-C): the figures
	// cover only what ran, and convergence was not waited for.
	Interrupted bool `json:"interrupted,omitempty"`
	// Events are the faults and actions of a drill, for the timeline.
	Events []Event `json:"events,omitempty"`
	// Tally counts the client's writes and reads, as the running counts
	// do; StaleP50 and StaleMax say how old the writes that stale reads
	// missed were.
	Tally
	StaleP50 time.Duration `json:"stale_p50_ns"`
	StaleMax time.Duration `json:"stale_max_ns"`
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
	// Links are the links' measures over the run's own window, from the
	// start of the load to convergence: nothing from before the run.
	Links      []LinkSeries            `json:"links"`
	Conflicted []region.ConflictRecord `json:"conflict_records"`
}

// Analyse turns a recording, the regions' conflict records, the links'
// measures and the convergence measurement into a result. Only what falls
// in the run's window counts: from the start of the load to convergence.
func Analyse(rec *Recording, records []region.ConflictRecord, links []LinkSeries, converge time.Duration, converged bool, digests map[string]region.Digest) *Result {
	res := &Result{Config: rec.Config, Began: rec.Began, Ended: rec.Ended, Interrupted: rec.Interrupted, ConvergeAfter: converge,
		Converged: converged && !rec.Interrupted, Digests: digests, LostBy: map[string]int{}, WonBy: map[string]int{}}
	end := rec.Ended.Add(converge)
	for _, l := range links {
		res.Links = append(res.Links, l.window(rec.Began, end))
	}
	res.Tally = rec.Tally(nil)
	byToken := map[string]*Write{}
	for _, w := range rec.Writes {
		if w.Err == "" {
			byToken[w.Token] = w
		}
	}
	var stale []time.Duration
	for _, r := range rec.Reads {
		if r.Missed != "" {
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

// Duration is how long the load ran.
func (r *Result) Duration() time.Duration { return r.Ended.Sub(r.Began).Round(time.Millisecond) }

// Headline is a one-line verdict of an experiment, and whether it is a
// good one (converged and not interrupted).
func (r *Result) Headline() (string, bool) {
	switch {
	case r.Interrupted:
		return fmt.Sprintf("INTERRUPTED after %s: the figures cover only the part that ran; convergence was not measured", r.Duration()), false
	case !r.Converged:
		return fmt.Sprintf("NOT CONVERGED: the regions still differed %s after the load stopped", r.ConvergeAfter.Round(time.Millisecond)), false
	}
	return fmt.Sprintf("Converged %s after the load stopped; %d conflicts overwrote %d acknowledged writes; %d of %d answered reads stale",
		r.ConvergeAfter.Round(time.Millisecond), r.Conflicts, r.Lost, r.StaleReads, r.Reads-r.ReadErrors), true
}

// StaleText says how many reads were stale and how old what they missed
// was.
func (r *Result) StaleText() string {
	if r.StaleReads == 0 {
		return fmt.Sprintf("0 of %d answered reads", r.Reads-r.ReadErrors)
	}
	return fmt.Sprintf("%d of %d answered reads (the writes they missed were p50 %s, max %s old)",
		r.StaleReads, r.Reads-r.ReadErrors, r.StaleP50.Round(time.Microsecond), r.StaleMax.Round(time.Microsecond))
}

// CountsText renders counts by region as "eu-west-1 2, us-east-1 1",
// sorted by region, or "none".
func CountsText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "none"
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// DigestsText renders the regions' digests, sorted by region.
func DigestsText(ds map[string]region.Digest) string {
	parts := make([]string, len(ds))
	for i, k := range slices.Sorted(maps.Keys(ds)) {
		d := ds[k].Digest
		if len(d) > 12 {
			d = d[:12]
		}
		parts[i] = fmt.Sprintf("%s %d items (digest %s)", k, ds[k].Items, d)
	}
	if len(parts) == 0 {
		return "none could be read"
	}
	return strings.Join(parts, "; ")
}

// msText renders an optional figure in milliseconds; nil is unknown.
func msText(v *float64) string {
	if v == nil {
		return "unknown"
	}
	if *v < 10 {
		return fmt.Sprintf("%.2f ms", *v)
	}
	return fmt.Sprintf("%.0f ms", *v)
}

// LinkText is one link's figures over the run.
func (l LinkSeries) LinkText() string {
	s := fmt.Sprintf("%s → %s: ", l.Source, l.Dest)
	if len(l.Probes) == 0 {
		s += "no write was followed across it"
	} else {
		s += fmt.Sprintf("p50 %s, p99 %s, max %s over %d writes followed", msText(l.P50Ms), msText(l.P99Ms), msText(l.MaxMs), len(l.Probes))
	}
	if l.MaxPending != nil {
		s += fmt.Sprintf("; at most %d changes pending", *l.MaxPending)
	} else {
		s += "; pending unknown"
	}
	return s
}

// Summary renders a result for a terminal.
func (r *Result) Summary(w io.Writer) {
	if r.Interrupted {
		h, _ := r.Headline()
		fmt.Fprintln(w, h)
	}
	fmt.Fprintf(w, "workload: %s, %s, %d keys, %.0f ops/s per region in %s, for %s, seed %d\n",
		r.WritesText(), r.ReadsText(), r.Config.Keys, r.Config.Rate, strings.Join(r.Config.WriteRegions, ", "), r.Duration(), r.Config.Seed)
	fmt.Fprintf(w, "conflicts: %d; acknowledged writes overwritten: %d (by the region that wrote them: %s); conflicts won by region: %s; decided by clock skew: %d\n",
		r.Conflicts, r.Lost, CountsText(r.LostBy), CountsText(r.WonBy), r.SkewDecided)
	fmt.Fprintf(w, "stale reads: %s\n", r.StaleText())
	switch {
	case r.Interrupted:
	case r.Converged:
		fmt.Fprintf(w, "converged %s after the load stopped\n", r.ConvergeAfter.Round(time.Millisecond))
	default:
		fmt.Fprintf(w, "NOT converged %s after the load stopped: %s\n", r.ConvergeAfter.Round(time.Millisecond), DigestsText(r.Digests))
	}
	for _, l := range r.Links {
		fmt.Fprintf(w, "link %s\n", l.LinkText())
	}
}
