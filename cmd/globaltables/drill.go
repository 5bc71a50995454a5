package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/drill"
	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
	"github.com/globaltables/globaltables/cmd/globaltables/supervise"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/replicator/shaper"
)

// drillTable is the global table a drill's workload writes.
const drillTable = "drill"

// builtinDrills returns the names of the drills built into the binary
// (configs/drills, embedded).
func builtinDrills() []string { return embeddedNames("drills") }

// processLab is a drill.Lab of region processes that this command starts
// and supervises on a throwaway topology.
type processLab struct {
	t    *topology.Topology
	self string
	sup  *supervise.Supervisor
}

var _ drill.Lab = (*processLab)(nil)

func (l *processLab) Regions() []string { return l.t.Names() }

func (l *processLab) Endpoint(name string) string {
	r, err := l.t.Region(name)
	if err != nil {
		return ""
	}
	return "http://" + r.Listen
}

func (l *processLab) Kill(name string) error { return l.sup.Kill(name) }

func (l *processLab) Stop(name string) error { return l.sup.Signal(name, os.Interrupt) }

func (l *processLab) Restart(ctx context.Context, name string) error {
	if err := startRegionOf(l.sup, l.self, l.t, name); err != nil {
		return err
	}
	return waitHealthy(ctx, l.sup, l.t)
}

func (l *processLab) Cut(ctx context.Context, links [][2]string) error {
	return cutLinks(ctx, io.Discard, l.t, links)
}

func (l *processLab) Heal(ctx context.Context) error { return healLinks(ctx, io.Discard, l.t) }

func (l *processLab) Shape(ctx context.Context, from, to string, sh shaper.Shape) error {
	return putShape(ctx, l.t, from, to, sh)
}

func (l *processLab) SetClock(ctx context.Context, name, offset, drift string) error {
	return setClock(ctx, l.t, name, offset, drift)
}

// runDrill runs drill d on a fresh topology of three regions, whose logs go
// to logw; live draws a progress line on out (a terminal).
func runDrill(ctx context.Context, self string, d *drill.Drill, scale float64, out, logw io.Writer, live bool) (*drill.Result, error) {
	dir, err := os.MkdirTemp("", "globaltables-drill")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// Tables start local, as in DynamoDB, so that a drill can replicate
	// tables of its own; the workload's table is made global below.
	extra := ""
	if d.Replication != nil {
		f := hclwrite.NewEmptyFile()
		gohcl.EncodeIntoBody(d.Replication, f.Body().AppendNewBlock("replication", nil).Body())
		extra = string(f.Bytes())
	}
	t, err := tempTopology(dir, []string{"us-east-1", "eu-west-1", "ap-southeast-1"}, extra)
	if err != nil {
		return nil, err
	}
	lab := &processLab{t: t, self: self, sup: supervise.New(logw)}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		lab.sup.Stop(sctx)
	}()
	if err := startTopology(ctx, lab.sup, self, t); err != nil {
		return nil, err
	}
	if err := ensureGlobalTable(ctx, t, drillTable); err != nil {
		return nil, err
	}
	return drill.Run(ctx, lab, d, drill.Options{Table: drillTable, Scale: scale, Out: out, Live: live})
}

// loadDrill reads a drill file or, when no such file exists, a built-in
// drill by name.
func loadDrill(arg string) (*drill.Drill, error) {
	name, src, err := readFileOrBuiltin("drill", "drills", arg)
	if err != nil {
		return nil, err
	}
	return drill.Parse(name, src)
}

func newDrillCmd() *cobra.Command {
	var out, html string
	var scale float64
	var verbose bool
	cmd := &cobra.Command{
		Use:   "drill SCENARIO|FILE",
		Short: "Run a failover drill: a scripted fault under load, ending with a verdict and a report",
		Long: `Start a fresh three-region topology, run a workload through it, carry out
the drill's timeline of steps (kill and restart a region, partition, heal,
shape links, skew clocks) and judge: the drill passes only if no
acknowledged write was lost (every one is present everywhere, or
overwritten by a newer write) and all regions converged.

Built-in scenarios, from configs/drills: ` + strings.Join(builtinDrills(), ", ") + `.
Any drill file of the same form works.

Files: the summary and verdict are printed here; --html writes the report
and --out the JSON results, each only when asked. The region processes'
logs go to a file of their own, one per run, unless --verbose prints them
on stderr: beside the report (or the results), named after it, e.g.
r.html gives r-regions.log; without --html and --out, in the current folder
as drill-NAME-YYYYMMDD-HHMMSS-regions.log (the run's start time). The drill
ends by printing the path of every file it wrote.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if scale <= 0 || scale > 100 {
				return usagef("--scale must be above 0 and at most 100")
			}
			d, err := loadDrill(args[0])
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			logw, logPath, err := drillLog(cmd, verbose, drillLogPath(d.Name, out, html, time.Now()))
			if err != nil {
				return err
			}
			if logPath != "" {
				defer logw.(io.Closer).Close()
				// Printed last, after the report's path, even when the
				// drill could not run.
				defer fmt.Fprintf(w, "region logs written to %s\n", logPath)
			}
			fmt.Fprintf(w, "drill %s: %s\n", d.Name, d.Description)
			res, err := runDrill(cmd.Context(), self, d, scale, w, logw, liveOutput(w) != nil)
			if err != nil {
				return err
			}
			printDrillResult(w, res)
			if err := writeDrillFiles(w, res, d.Name, out, html); err != nil {
				return err
			}
			switch {
			case res.Interrupted:
				return fmt.Errorf("drill %s interrupted", d.Name)
			case !res.Passed:
				return fmt.Errorf("drill %s failed", d.Name)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the results as JSON to this file")
	cmd.Flags().StringVar(&html, "html", "", "write a self-contained HTML report to this file")
	cmd.Flags().Float64Var(&scale, "scale", 1, "multiply every wait by this (0.25 runs a drill four times faster)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print the regions' logs on stderr instead of writing them to a file (see Files above)")
	return cmd
}

// drillLog returns where the drill's region logs go: stderr with
// --verbose, else a new file at path, whose path it returns too.
func drillLog(cmd *cobra.Command, verbose bool, path string) (io.Writer, string, error) {
	if verbose {
		return cmd.ErrOrStderr(), "", nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, "", fmt.Errorf("region log file (or use --verbose): %w", err)
	}
	return f, path, nil
}

// drillLogPath names a run's region log so that no run overwrites
// another's: beside the report (or the JSON results) with its base name,
// as r.html gives r-regions.log, so that the log goes with its report;
// else in the current folder, named after the drill and the run's start.
func drillLogPath(name, out, html string, start time.Time) string {
	report := html
	if report == "" {
		report = out
	}
	if report != "" {
		return strings.TrimSuffix(report, filepath.Ext(report)) + "-regions.log"
	}
	return "drill-" + name + "-" + start.Format("20060102-150405") + "-regions.log"
}

// printDrillResult prints a drill's summary, recovery figures, phases and
// verdict.
func printDrillResult(w io.Writer, res *drill.Result) {
	res.Result.Summary(w)
	for _, ph := range res.Phases {
		fmt.Fprintf(w, "phase %-12s %s, %s, %d conflicts, %d stale reads\n",
			ph.Name, ph.WritesText(), ph.ReadsText(), ph.Conflicts, ph.StaleReads)
	}
	for _, f := range res.Facts() {
		fmt.Fprintf(w, "%s: %s\n", f.Name, f.Value)
	}
	fmt.Fprintln(w, res.Verdict)
}

// writeDrillFiles writes the JSON results and the HTML report, where
// asked, and prints on w the path of each file written.
func writeDrillFiles(w io.Writer, res *drill.Result, name, out, html string) error {
	if out != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "results written to %s\n", out)
	}
	if html == "" {
		return nil
	}
	f, err := os.Create(html)
	if err != nil {
		return err
	}
	rep := experiment.Report{Kind: "drill", Name: name, Verdict: res.Verdict, Passed: res.Passed, Facts: res.Facts(), Phases: res.Phases,
		Topology: fmt.Sprintf("%d regions: %s (a throwaway topology)", len(res.Regions), strings.Join(res.Regions, ", ")), Version: buildVersion()}
	if err := res.Result.WriteHTML(f, rep); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(w, "report written to %s (open it in a browser; it needs no network)\n", html)
	return nil
}
