package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/region"
)

// getJSON fetches a region endpoint and decodes its JSON body into v.
func getJSON(ctx context.Context, u string, v any) error { return region.GetJSON(ctx, u, v) }

func newStatusCmd() *cobra.Command {
	var configPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show replication between the regions of a topology, one row per link",
		Long: `Ask every region of a topology for its replication status and show one
row per directed link (source → destination): whether it is connected, how
many changes are pending on it, its shape, the replication latency (from
the commit in the source to the apply in the destination) over the last
minute, how many changes and conflicts it applied, and its last error with
its age ("recovered" for a minute once the link works again).

PENDING is measured at the source: its stream's last sequence minus the
acknowledgement floor of the destination's consumer. It is right while a
link is cut, and "?" when it cannot be known (the source is unreachable),
never 0. A region with changes pending is noted as behind.

New replicas being filled and indexes being built are listed under IN
PROGRESS, with their progress and whether they resumed after a restart.

Exit status: 0 when every region answered and every link is connected; 1
when a region is unreachable or a link is down (disconnected, or stopped at
a change), after printing the report; 2 for a usage error. --json prints
the report as one JSON document for scripts, with the same exit status.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := loadTopology(configPath)
			if err != nil {
				return err
			}
			rep := gatherStatus(cmd.Context(), t)
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printStatus(out, rep)
			}
			if !rep.Healthy {
				return fmt.Errorf("%w: %s", errUnhealthy, strings.Join(rep.Problems, "; "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", DefaultTopology, "topology file (HCL)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report (every region's status and every link) as JSON")
	return cmd
}

func printStatus(out io.Writer, rep *statusReport) {
	statuses := make([]*region.Status, len(rep.Regions))
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "REGION\tENDPOINT\tBACKLOG\tCONFLICTS\tNOTES")
	for i, r := range rep.Regions {
		st := r.Status
		statuses[i] = st
		if st == nil {
			fmt.Fprintf(w, "%s\t%s\t?\t?\tUNREACHABLE: %s\n", r.Name, r.Endpoint, r.Error)
			continue
		}
		backlog, note := "?", ""
		if st.Publisher != nil {
			backlog = strconv.FormatUint(st.Publisher.Backlog, 10)
			if !st.Publisher.Connected {
				note = "stream not reachable: writes are kept and published later"
			}
		}
		if len(st.Resyncing) > 0 {
			note = fmt.Sprintf("re-syncing from %v", st.Resyncing)
		}
		if len(st.CatchingUp) > 0 {
			note = fmt.Sprintf("filling new replicas of %v", st.CatchingUp)
		}
		if len(st.Backfills) > 0 {
			if note != "" {
				note += "; "
			}
			note += fmt.Sprintf("building %d index(es)", len(st.Backfills))
		}
		if behind := rep.behindNote(r.Name); behind != "" {
			note = strings.TrimSuffix(behind+"; "+note, "; ")
		}
		if alarm := diskAndStreamNote(st); alarm != "" {
			note = strings.TrimSuffix(alarm+"; "+note, "; ")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", st.Region, st.Endpoint, backlog, st.Conflicts, note)
	}
	w.Flush()
	fmt.Fprintln(out)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "LINK\tCONNECTED\tPENDING\tSHAPE\tP50\tP99\tMAX\tAPPLIED\tCONFLICTS\tRESYNCS\tLAST ERROR")
	for _, lr := range rep.Links {
		l := lr.Link
		if l == nil {
			// The destination did not answer: only the source's figure.
			fmt.Fprintf(w, "%s → %s\t?\t%s\t?\t-\t-\t-\t?\t?\t?\tdestination unreachable\n", lr.Source, lr.Dest, pendingCell(lr))
			continue
		}
		var now time.Time
		for _, st := range statuses {
			if st != nil && st.Region == lr.Dest {
				now = st.Time
			}
		}
		shape := shapeCell(l.Shape)
		fmt.Fprintf(w, "%s → %s\t%v\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", l.Source, l.Dest, l.Connected, pendingCell(lr), shape,
			fmtMs(l.P50Ms), fmtMs(l.P99Ms), fmtMs(l.MaxMs), l.Applied, l.Conflicts, l.Resyncs, lastErrorCell(l, now))
	}
	w.Flush()
	fmt.Fprintln(out, "\nlatencies are over the last minute, from the commit in the source to the apply in the destination;")
	fmt.Fprintln(out, "PENDING is counted at the source (changes the destination has not acknowledged), ? when unknown")
	printRebuilds(out, statuses)
	printWork(out, statuses)
	printTriggers(out, statuses)
	if !rep.Healthy {
		fmt.Fprintln(out)
		for _, p := range rep.Problems {
			fmt.Fprintln(out, "PROBLEM: "+p)
		}
	}
}

// printWork lists the replica copies and index backfills in progress, if
// any.
func printWork(out io.Writer, statuses []*region.Status) {
	var lines []string
	for _, st := range statuses {
		if st == nil {
			continue
		}
		for _, j := range st.Joins {
			detail := fmt.Sprintf("%s, from %s: %d items here", j.Phase, j.Source, j.Items)
			if j.SourceItems != nil {
				detail += fmt.Sprintf(" of %d at the source", *j.SourceItems)
			}
			if j.Percent != nil {
				detail += fmt.Sprintf(" (%d%%)", *j.Percent)
			}
			lines = append(lines, fmt.Sprintf("%s\tnew replica\t%s\t%s\t%s\t%s", st.Region, j.Table, detail, since(st.Time, j.Started), resumedNote(j.Resumed)))
		}
		for _, b := range st.Backfills {
			detail := fmt.Sprintf("index %s: %d rows read, table holds %d items", b.Index, b.Rows, b.TableItems)
			lines = append(lines, fmt.Sprintf("%s\tindex backfill\t%s\t%s\t%s\t%s", st.Region, b.Table, detail, since(st.Time, b.Started), resumedNote(b.Resumed)))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "IN PROGRESS\tWORK\tTABLE\tDETAIL\tRUNNING\t")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	w.Flush()
}

// since is how long ago start was, at now, rounded to the second.
func since(now, start time.Time) string { return now.Sub(start).Round(time.Second).String() }

func resumedNote(resumed bool) string {
	if resumed {
		return "resumed after a restart"
	}
	return ""
}

// printRebuilds lists the re-syncs that rebuilt a table from a peer's
// snapshot, with what each dropped and kept.
func printRebuilds(out io.Writer, statuses []*region.Status) {
	header := false
	for _, st := range statuses {
		if st == nil {
			continue
		}
		for _, r := range st.Rebuilds {
			if !header {
				fmt.Fprintln(out, "\nrebuilds after an absence (items only one side held, older than tombstone_horizon):")
				header = true
			}
			fmt.Fprintf(out, "  %s %s: table %s from %s's snapshot: dropped %d deleted elsewhere, skipped %d deleted here, kept %d the peer never received (%d local)",
				r.At.Format(time.RFC3339), st.Region, r.Table, r.Source, r.Dropped, r.Skipped, r.Kept, r.KeptLocal)
			if r.Note != "" {
				fmt.Fprintf(out, " (%s)", r.Note)
			}
			fmt.Fprintln(out)
		}
	}
}

func fmtMs(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
}

// diskAndStreamNote says, loudly, that a region refuses writes for lack of
// disk space or after a failed flush to disk, or that its stream cannot be
// set up or written (its writes are kept and published once that clears);
// "" if none.
func diskAndStreamNote(st *region.Status) string {
	var notes []string
	if d := st.Disk; d != nil && d.FlushFailed {
		notes = append(notes, "FLUSH FAILED: "+d.FlushError)
	}
	if d := st.Disk; d != nil && (d.Full || d.ReadOnly) {
		what := "DISK FULL: writes refused"
		if d.ReadOnly {
			what = "DISK FULL: started read-only, writes refused"
		}
		notes = append(notes, fmt.Sprintf("%s (%.1f MiB free, %.1f MiB reserved)", what,
			float64(d.FreeBytes)/(1<<20), float64(d.ReserveBytes)/(1<<20)))
	}
	if p := st.Publisher; p != nil && p.StreamError != "" {
		notes = append(notes, fmt.Sprintf("STREAM FAILING since %s: %s", p.StreamErrorSince.Format(time.TimeOnly), p.StreamError))
	}
	return strings.Join(notes, "; ")
}
