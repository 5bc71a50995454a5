package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
)

// errUnhealthy is returned by `status` (exit status 1) when a region is
// unreachable or a link is down; the report is printed first.
var errUnhealthy = errors.New("topology unhealthy")

// statusReport is what `status` gathers from every region, and what
// `status --json` prints: the regions' own statuses, and one row per
// directed link that joins both ends' views of it.
type statusReport struct {
	// Healthy is false when a region is unreachable or a link is down
	// (disconnected, or stopped at a change); Problems says which.
	Healthy  bool           `json:"healthy"`
	Problems []string       `json:"problems,omitempty"`
	Regions  []regionReport `json:"regions"`
	Links    []linkReport   `json:"links"`
}

// regionReport is one region: its status, or why it could not be had.
type regionReport struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	// Error is set when the region did not answer; Status is then null.
	Error  string         `json:"error,omitempty"`
	Status *region.Status `json:"status"`
	// Behind is how many changes of other regions this one has not
	// applied, summed over its inbound links whose figure is known.
	Behind uint64 `json:"behind"`
}

// linkReport is one directed link, Source → Dest.
type linkReport struct {
	Source string `json:"source"`
	Dest   string `json:"dest"`
	// Connected is null when the destination did not answer.
	Connected *bool `json:"connected"`
	// Down is true when the link is disconnected or stopped at a change.
	Down bool `json:"down"`
	// Pending is measured at the source: its stream's last sequence minus
	// the ack floor of the destination's consumer. Null when it cannot be
	// known (the source did not answer, or could not measure it:
	// PendingUnknown says why).
	Pending        *uint64 `json:"pending"`
	PendingUnknown string  `json:"pending_unknown,omitempty"`
	// Link is the destination's view of the link (latencies, counts, last
	// error, shape); null when the destination did not answer.
	Link *region.LinkStatus `json:"link"`
}

// gatherStatus asks every region of t for its status, all at once, and
// joins the answers into a report.
func gatherStatus(ctx context.Context, t *topology.Topology) *statusReport {
	rep := &statusReport{Regions: make([]regionReport, len(t.Regions))}
	var wg sync.WaitGroup
	for i, r := range t.Regions {
		rep.Regions[i] = regionReport{Name: r.Name, Endpoint: r.Endpoint()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var st region.Status
			if err := regionGet(ctx, t, r, region.StatusPath, &st); err != nil {
				rep.Regions[i].Error = err.Error()
				return
			}
			rep.Regions[i].Status = &st
		}()
	}
	wg.Wait()
	rep.join()
	return rep
}

// join builds the link rows and the verdict from the regions' statuses.
func (rep *statusReport) join() {
	byName := map[string]*regionReport{}
	for i := range rep.Regions {
		byName[rep.Regions[i].Name] = &rep.Regions[i]
	}
	type key struct{ source, dest string }
	rows := map[key]*linkReport{}
	row := func(source, dest string) *linkReport {
		k := key{source, dest}
		if rows[k] == nil {
			rows[k] = &linkReport{Source: source, Dest: dest}
		}
		return rows[k]
	}
	for _, rr := range rep.Regions {
		st := rr.Status
		if st == nil {
			continue
		}
		for i := range st.Links {
			l := &st.Links[i]
			lr := row(l.Source, l.Dest)
			lr.Link = l
			connected := l.Connected
			lr.Connected = &connected
			lr.Down = !l.Connected || l.Stall != nil
		}
		for _, o := range st.Outbound {
			lr := row(st.Region, o.Dest)
			lr.Pending, lr.PendingUnknown = o.Pending, o.Unknown
		}
	}
	for _, lr := range rows {
		if src := byName[lr.Source]; src != nil && src.Status == nil {
			lr.PendingUnknown = "source " + lr.Source + " did not answer"
		}
		if dst := byName[lr.Dest]; dst != nil && lr.Pending != nil {
			dst.Behind += *lr.Pending
		}
		rep.Links = append(rep.Links, *lr)
	}
	order := map[string]int{}
	for i, r := range rep.Regions {
		order[r.Name] = i
	}
	sort.Slice(rep.Links, func(i, j int) bool {
		a, b := rep.Links[i], rep.Links[j]
		if a.Dest != b.Dest {
			return order[a.Dest] < order[b.Dest]
		}
		return order[a.Source] < order[b.Source]
	})
	answered := 0
	for _, rr := range rep.Regions {
		if rr.Status == nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("region %s unreachable: %s", rr.Name, rr.Error))
		} else {
			answered++
		}
	}
	if answered == 0 && len(rep.Regions) > 0 {
		rep.Problems = append(rep.Problems, "no region answers: is the topology running? (start it with: globaltables up)")
	}
	for _, lr := range rep.Links {
		if lr.Down {
			rep.Problems = append(rep.Problems, fmt.Sprintf("link %s → %s down", lr.Source, lr.Dest))
		}
	}
	rep.Healthy = len(rep.Problems) == 0
}

// behindNote says how far a region is behind, and on which links, or ""
// if it is not.
func (rep *statusReport) behindNote(name string) string {
	var parts []string
	for _, lr := range rep.Links {
		if lr.Dest == name && lr.Pending != nil && *lr.Pending > 0 {
			what := fmt.Sprintf("%d from %s", *lr.Pending, lr.Source)
			if lr.Down {
				what += " (link down)"
			}
			parts = append(parts, what)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "behind: " + strings.Join(parts, ", ") + " not applied yet"
}

// pendingCell renders a link's pending count, "?" when unknown.
func pendingCell(lr linkReport) string {
	if lr.Pending == nil {
		return "?"
	}
	return fmt.Sprint(*lr.Pending)
}

// lastErrorCell renders a link's last error with its age, relative to
// now (the destination's status time): "12s ago: …" while it lasts,
// "recovered 3s ago (…)" for a minute after the link worked again.
func lastErrorCell(l *region.LinkStatus, now time.Time) string {
	if l == nil {
		return ""
	}
	if l.Stall != nil {
		return fmt.Sprintf("STOPPED at change %d since %s: %s", l.Stall.Seq, l.Stall.Since.Format(time.TimeOnly), l.Stall.Reason)
	}
	if l.LastError == "" {
		if l.Waiting != "" && !l.WaitingSince.IsZero() {
			// Not an error: a peer that has not started yet.
			return fmt.Sprintf("(%s, %s so far)", l.Waiting, since(now, l.WaitingSince))
		}
		return l.Waiting
	}
	if l.Recovered {
		return fmt.Sprintf("recovered %s ago (was: %s)", since(now, l.RecoveredAt), l.LastError)
	}
	if l.LastErrorAt.IsZero() {
		return l.LastError
	}
	return fmt.Sprintf("%s ago: %s", since(now, l.LastErrorAt), l.LastError)
}

// shapeCell renders a link's shape for a table cell: "-" when the region
// runs without shaping, and without the brackets shaper.Shape.String puts
// around several settings.
func shapeCell(shape string) string {
	if shape == "" {
		return "-"
	}
	return strings.TrimSuffix(strings.TrimPrefix(shape, "["), "]")
}
