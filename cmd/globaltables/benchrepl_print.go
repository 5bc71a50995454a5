package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// printReplStep renders one step of `bench replication` for a terminal.
func printReplStep(out io.Writer, st *replStep) {
	mode := "PutItem"
	if st.Batch {
		mode = "BatchWriteItem x25"
	}
	pend := fmt.Sprint(st.MaxPend)
	if st.PendUnknown > 0 {
		pend += fmt.Sprintf(" (%d samples unknown)", st.PendUnknown)
	}
	fmt.Fprintf(out, "\n%d regions, %d writes/s target (%s) for %s: achieved %.0f writes/s, %d errors, max pending %s, drained in %s, kept up: %v\n",
		st.Regions, st.Rate, mode, st.Duration, st.Achieved, st.Errors, pend, st.Drain.Round(time.Millisecond), st.KeptUp)
	if st.FirstErr != "" {
		fmt.Fprintf(out, "first error: %s\n", st.FirstErr)
	}
	printCost(out, &st.Cost)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	if st.Lag != nil {
		fmt.Fprintln(w, "LINK\tAPPLIED\tCOMMIT→APPLY P50\tP99\tMAX\tPROBES\tACK→READ P50\tP99\tMAX\t")
	} else {
		fmt.Fprintln(w, "LINK\tAPPLIED\tCOMMIT→APPLY P50\tP99\tMAX\t")
	}
	for _, l := range st.Links {
		fmt.Fprintf(w, "%s → %s\t%d\t%s\t%s\t%s\t", l.Source, l.Dest, l.Applied, fmtMs(l.P50AllMs), fmtMs(l.P99AllMs), fmtMs(l.MaxAllMs))
		if st.Lag != nil {
			for _, o := range st.Lag.Links {
				if o.Source == l.Source && o.Dest == l.Dest {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t", o.Probes, optMs(o.P50Ms), optMs(o.P99Ms), optMs(o.MaxMs))
				}
			}
		}
		fmt.Fprintln(w)
	}
	if l := st.Lag; l != nil {
		fmt.Fprintf(w, "all links\t\t\t\t\t%d\t%s\t%s\t%s\t\n", l.All.Probes, optMs(l.All.P50Ms), optMs(l.All.P99Ms), optMs(l.All.MaxMs))
	}
	w.Flush()
	fmt.Fprintln(out, "COMMIT→APPLY: the regions' own figure (status), origin commit to destination apply, over the regions' life.")
	if l := st.Lag; l != nil {
		unfinished := 0
		for _, o := range l.Links {
			unfinished += o.Unfinished
		}
		fmt.Fprintf(out, "ACK→READ: from outside, PutItem acknowledged in the source to the GetItem response in the destination that holds it (read round trip p50 %s); %d probe writes, %d probe reads, %d unfinished, %d turns skipped.\n",
			optMs(l.ReadRTTP50Ms), l.Writes, l.Reads, unfinished, l.Skipped)
	}
}

// printCost renders a step's CPU and memory.
func printCost(out io.Writer, c *replCost) {
	fmt.Fprintf(out, "CPU per replicated write: %s (regions' CPU %s over %s = %s of a core, / %d origin writes, each applied in %d regions); %s above the regions' idle %s; bench client %s per write\n",
		optDur(c.CPUPerWrite), optDur(c.RegionsCPU), c.Window.Round(time.Millisecond), optPct(c.RegionsCorePercent), c.Writes,
		len(c.Regions)-1, optDur(c.CPUPerWriteAboveIdle), optPct(c.IdleCorePercent), optDur(c.ClientCPUPerWrite))
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "REGION\tCPU\t% OF A CORE\tIDLE\tRSS\tPEAK RSS\t")
	for _, r := range c.Regions {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Region, optDur(r.CPU), optPct(r.CorePercent), optPct(r.IdlePercent), optMB(r.RSS), optMB(r.Peak))
	}
	w.Flush()
}

// printSaturation names the highest step kept up, as --saturate found it,
// and the first that was not: there the regions took all they could, so
// its CPU per replicated write is the figure at saturation.
func printSaturation(out io.Writer, steps []*replStep) {
	fmt.Fprintln(out)
	for _, st := range steps {
		if st.Saturation {
			fmt.Fprintf(out, "saturation: %d regions kept up with %d writes/s (achieved %.0f); CPU per replicated write there %s (%s above idle)\n",
				st.Regions, st.Rate, st.Achieved, optDur(st.Cost.CPUPerWrite), optDur(st.Cost.CPUPerWriteAboveIdle))
		}
	}
	if last := steps[len(steps)-1]; !last.KeptUp {
		fmt.Fprintf(out, "saturated: at %d writes/s the %d regions took %.0f writes/s; CPU per replicated write %s (%s above idle)\n",
			last.Rate, last.Regions, last.Achieved, optDur(last.Cost.CPUPerWrite), optDur(last.Cost.CPUPerWriteAboveIdle))
	}
}

// optDur, optMs, optPct and optMB render a figure, or "?" when unknown.
func optDur(d *time.Duration) string {
	if d == nil {
		return "?"
	}
	switch {
	case *d >= 10*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case *d >= 10*time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

func optMs(v *float64) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprintf("%.2fms", *v)
}

func optPct(v *float64) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprintf("%.1f%%", *v)
}

func optMB(v *uint64) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprintf("%.0f MB", float64(*v)/1e6)
}
