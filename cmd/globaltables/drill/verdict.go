package drill

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
)

// Facts are what a drill is for, in the words of a recovery plan: the
// recovery point (acknowledged writes at risk and lost), the recovery time
// (how long a restarted region took to catch up, and what the clients did
// meanwhile), the most changes that waited on a link, and the time to
// converge. They open the drill's report and end its terminal output.
func (res *Result) Facts() []experiment.Fact {
	r := res.Result
	if r == nil {
		return nil
	}
	var facts []experiment.Fact
	add := func(name, format string, args ...any) {
		facts = append(facts, experiment.Fact{Name: name, Value: fmt.Sprintf(format, args...)})
	}

	rpo := fmt.Sprintf("%d acknowledged writes lost", len(res.Lost))
	if res.Interrupted {
		rpo = "not judged: the drill was interrupted"
	}
	for _, name := range slices.Sorted(maps.Keys(res.AtRisk)) {
		rpo += fmt.Sprintf("; %s held %d acknowledged changes not yet published when it was killed", name, res.AtRisk[name])
	}
	add("recovery point (RPO)", "%s", rpo)

	var rto []string
	for _, name := range slices.Sorted(maps.Keys(res.Recover)) {
		rto = append(rto, fmt.Sprintf("%s caught up %s after its restart", name, seconds(res.Recover[name])))
	}
	if len(rto) == 0 {
		rto = append(rto, "no region was restarted")
	}
	if r.FailedOver > 0 {
		rto = append(rto, fmt.Sprintf("meanwhile %d writes were refused by their region and retried in another, %d failed", r.FailedOver, r.WriteErrors))
	}
	add("recovery time (RTO)", "%s", strings.Join(rto, "; "))

	var top *experiment.LinkSeries
	for i := range r.Links {
		l := &r.Links[i]
		if l.MaxPending != nil && (top == nil || *l.MaxPending > *top.MaxPending) {
			top = l
		}
	}
	if top == nil {
		add("maximum pending", "unknown: no region reported its links")
	} else {
		add("maximum pending", "%d changes on %s → %s at %s", *top.MaxPending, top.Source, top.Dest, top.MaxPendingAt.Format("15:04:05"))
	}

	switch {
	case r.Interrupted:
		add("time to converge", "not measured: the drill was interrupted")
	case r.Converged:
		add("time to converge", "%s after the load stopped", r.ConvergeAfter.Round(time.Millisecond))
	default:
		add("time to converge", "NOT converged %s after the load stopped: %s", r.ConvergeAfter.Round(time.Millisecond), experiment.DigestsText(r.Digests))
	}
	return facts
}

// seconds renders a number of seconds as a duration.
func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}
