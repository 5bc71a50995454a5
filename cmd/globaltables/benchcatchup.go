package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/cmd/globaltables/supervise"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
)

// catchupTable is the table bench catchup writes.
const catchupTable = "benchcatchup"

// catchupRun is one measured outage and return.
type catchupRun struct {
	Mode    string `json:"mode"`
	Regions int    `json:"regions"`
	Changes int    `json:"changes"`
	Source  string `json:"source"`
	Dest    string `json:"dest"`
	// Write is how long the source took to accept the changes.
	Write time.Duration `json:"write_ns"`
	// CatchUp is from the link's restoration (heal, or the destination's
	// restart) until the source counts nothing pending for the
	// destination; Rate is Changes over it.
	CatchUp time.Duration `json:"catch_up_ns"`
	Rate    float64       `json:"changes_per_sec"`
	// Resumed is from the restoration until the first change applied
	// (the pending count went down): reconnection, and in modes restart
	// and resync the region's start and re-sync. DrainRate is Changes
	// over the rest of CatchUp: the link's own pace (not in mode resync,
	// where the re-sync replaces the changes all at once).
	Resumed   time.Duration `json:"resumed_ns"`
	DrainRate float64       `json:"drain_changes_per_sec"`
	// Rebuild is what the destination's re-sync of the table took
	// (RebuildReport.TookMs), in mode resync.
	Rebuild *region.RebuildReport `json:"rebuild,omitempty"`
	// CPU is the CPU time (user + system) each region process used during
	// CatchUp, by region name (a region started again in it counts from
	// its start); a region whose figure could not be read is left out.
	// On a shared machine it is steadier than the wall time.
	CPU map[string]time.Duration `json:"cpu_ns,omitempty"`
}

func newBenchCatchupCmd() *cobra.Command {
	var (
		mode     string
		regions  int
		changes  int
		itemSize int
		workers  int
		runs     int
		asJSON   bool
		pprof    bool
		logLevel string
	)
	var regionBin string
	cmd := &cobra.Command{
		Use:   "catchup",
		Short: "Measure how fast a region returning from an outage catches up, or re-syncs",
		Long: `Start a fresh topology of region processes, take the last region away from
the first, write --changes items into the first (BatchWriteItem, 25 a
request), bring the link back and time it until the first region counts
nothing pending for the last. Modes:
  cut      the links into the last region are cut (as 'partition' does), then healed
  restart  the last region is stopped (SIGTERM), then started again; the time
           includes its start
  resync   as restart, with streams that keep changes for 2 s: the returning
           region finds them gone and re-syncs from the first region's
           snapshot; the rebuild's own duration is shown besides`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if mode != "cut" && mode != "restart" && mode != "resync" {
				return usagef("--mode: cut, restart or resync, not %q", mode)
			}
			if regions < 2 || changes < 1 || runs < 1 || workers < 1 {
				return usagef("--regions at least 2; --changes, --runs and --workers at least 1")
			}
			self, err := regionBinary(regionBin)
			if err != nil {
				return err
			}
			var out []*catchupRun
			for range runs {
				r, err := runCatchup(cmd.Context(), self, mode, regions, changes, itemSize, workers, pprof, logLevel, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				out = append(out, r)
				if !asJSON {
					printCatchup(cmd.OutOrStdout(), r)
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&mode, "mode", "cut", "how the region goes away: cut, restart or resync")
	f.IntVar(&regions, "regions", 2, "regions in the topology")
	f.IntVar(&changes, "changes", 100_000, "items written while the region is away")
	f.IntVar(&itemSize, "item-size", 200, "payload bytes per item")
	f.IntVar(&workers, "workers", 8, "concurrent writers")
	f.IntVar(&runs, "runs", 1, "measured runs, each on a fresh topology")
	f.BoolVar(&asJSON, "json", false, "print the runs as JSON")
	f.BoolVar(&pprof, "pprof", false, "start the regions with --pprof, to profile the returning one")
	f.StringVar(&logLevel, "dest-log-level", "", "in modes restart and resync, start the returning region again with this --log-level (debug shows the rebuild's timings)")
	f.StringVar(&regionBin, "region-binary", "", "run the regions with this globaltables binary instead of this one (compare builds)")
	return cmd
}

func printCatchup(out io.Writer, r *catchupRun) {
	fmt.Fprintf(out, "%s, %d regions: %d changes written into %s in %s; %s caught up in %s: %.0f changes/s",
		r.Mode, r.Regions, r.Changes, r.Source, r.Write.Round(time.Millisecond), r.Dest, r.CatchUp.Round(time.Millisecond), r.Rate)
	if r.DrainRate > 0 {
		fmt.Fprintf(out, " (first applied after %s, then %.0f changes/s)", r.Resumed.Round(time.Millisecond), r.DrainRate)
	}
	fmt.Fprintln(out)
	if len(r.CPU) > 0 {
		fmt.Fprintf(out, "  region CPU in it:")
		for _, n := range slices.Sorted(maps.Keys(r.CPU)) {
			fmt.Fprintf(out, " %s %.2f s", n, r.CPU[n].Seconds())
		}
		fmt.Fprintln(out)
	}
	if rb := r.Rebuild; rb != nil {
		took := "? (the region does not report it)"
		if rb.TookMs != nil {
			took = time.Duration(*rb.TookMs * float64(time.Millisecond)).Round(time.Millisecond).String()
		}
		fmt.Fprintf(out, "  re-sync of %s from %s: %d items applied in %s\n", rb.Table, rb.Source, rb.Applied, took)
	}
}

// catchupExtra is the topology's extra settings for mode: in mode resync,
// streams that keep changes for 2 s (tombstones 3 s, the least allowed
// above it), so that a region away for a few seconds re-syncs.
func catchupExtra(mode string) string {
	extra := "global_tables = true\n"
	if mode == "resync" {
		extra += "replication {\n  stream_max_age = \"2s\"\n  tombstone_horizon = \"3s\"\n}\n"
	}
	return extra
}

// runCatchup runs one outage and return on a fresh topology.
func runCatchup(ctx context.Context, self, mode string, n, changes, itemSize, workers int, pprof bool, logLevel string, logw io.Writer) (*catchupRun, error) {
	names := benchRegionNames(n)
	bt, err := startBenchTopology(ctx, self, "globaltables-benchcatchup", names, catchupExtra(mode), pprof, logw)
	if err != nil {
		return nil, err
	}
	defer bt.Close()
	t, sup, args := bt.T, bt.Sup, bt.Args
	if err := ensureGlobalTable(ctx, t, catchupTable); err != nil {
		return nil, err
	}
	src, dst := t.Regions[0], t.Regions[len(t.Regions)-1]
	run := &catchupRun{Mode: mode, Regions: len(names), Changes: changes, Source: src.Name, Dest: dst.Name}

	// Take the destination away.
	if mode == "cut" {
		var cuts [][2]string
		for _, r := range t.Regions[:len(t.Regions)-1] {
			cuts = append(cuts, [2]string{r.Name, dst.Name})
		}
		if err := cutLinks(ctx, io.Discard, t, cuts); err != nil {
			return nil, err
		}
	} else if err := stopRegionProc(ctx, sup, dst.Name); err != nil {
		return nil, err
	}

	began := time.Now()
	if err := writeItems(ctx, bench.Client("http://"+src.Listen, workers), changes, itemSize, workers); err != nil {
		return nil, err
	}
	run.Write = time.Since(began)
	// Everything published, and all of it pending for the destination.
	if err := pollUntil(ctx, 2*time.Minute, func() error {
		pub, pend, err := outbound(ctx, src, dst.Name)
		if err != nil {
			return err
		}
		if pub > 0 || pend < uint64(changes) {
			return fmt.Errorf("%s: publisher backlog %d, pending for %s %d (want %d): did the outage hold?", src.Name, pub, dst.Name, pend, changes)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if mode == "resync" {
		// Pacing, not synchronisation: the source's stream drops the
		// changes once they are older than stream_max_age (2 s).
		time.Sleep(3 * time.Second)
	}

	// Bring it back and time it until nothing is pending.
	cpu0 := sampleCPU(sup, names)
	restored := time.Now()
	if mode == "cut" {
		if err := healLinks(ctx, io.Discard, t); err != nil {
			return nil, err
		}
	} else if err := startRegionOf(sup, self, t, dst.Name, restartArgs(args, logLevel)...); err != nil {
		return nil, err
	}
	err = pollUntil(ctx, 5*time.Minute, func() error {
		_, pend, err := outbound(ctx, src, dst.Name)
		if err != nil {
			return err
		}
		if pend < uint64(changes) && run.Resumed == 0 {
			run.Resumed = time.Since(restored)
		}
		if pend > 0 {
			return fmt.Errorf("%s still has %d changes pending for %s", src.Name, pend, dst.Name)
		}
		return nil
	})
	run.CatchUp = time.Since(restored)
	if err != nil {
		return nil, err
	}
	cpu1 := sampleCPU(sup, names)
	run.CPU = map[string]time.Duration{}
	for n, d := range cpu1.Regions {
		if mode == "cut" || n != dst.Name {
			if d0, ok := cpu0.Regions[n]; ok {
				run.CPU[n] = d - d0
			}
			continue
		}
		run.CPU[n] = d // started again after cpu0
	}
	run.Rate = float64(changes) / run.CatchUp.Seconds()
	if d := run.CatchUp - run.Resumed; mode != "resync" && d > 0 {
		run.DrainRate = float64(changes) / d.Seconds()
	}
	if mode == "resync" {
		var st region.Status
		if err := regionGet(ctx, t, dst, region.StatusPath, &st); err != nil {
			return nil, err
		}
		for i := range st.Rebuilds {
			if rb := st.Rebuilds[i]; rb.Table == catchupTable && rb.Source == src.Name {
				run.Rebuild = &rb
			}
		}
		if run.Rebuild == nil {
			return nil, fmt.Errorf("%s caught up without re-syncing %s from %s: was it away longer than the streams keep changes?", dst.Name, catchupTable, src.Name)
		}
	}
	return run, nil
}

// restartArgs are the returning region's arguments: those it started
// with, and --log-level if one is given.
func restartArgs(args []string, logLevel string) []string {
	if logLevel == "" {
		return args
	}
	return append(append([]string(nil), args...), "--log-level", logLevel)
}

// stopRegionProc stops region name with SIGTERM and waits until it has exited.
func stopRegionProc(ctx context.Context, sup *supervise.Supervisor, name string) error {
	if err := sup.Signal(name, syscall.SIGTERM); err != nil {
		return err
	}
	return pollUntil(ctx, time.Minute, func() error {
		if sup.Running(name) {
			return fmt.Errorf("%s has not stopped", name)
		}
		return nil
	})
}

// outbound returns region r's publisher backlog and the changes it counts
// pending for dest; an unknown figure is an error, not zero.
func outbound(ctx context.Context, r topology.Region, dest string) (backlog, pending uint64, err error) {
	var st region.Status
	if err := getJSON(ctx, "http://"+r.Listen+region.StatusPath, &st); err != nil {
		return 0, 0, err
	}
	if st.Publisher != nil {
		backlog = st.Publisher.Backlog
	}
	for _, o := range st.Outbound {
		if o.Dest == dest {
			if o.Pending == nil {
				return 0, 0, fmt.Errorf("%s's pending for %s is unknown: %s", r.Name, dest, o.Unknown)
			}
			return backlog, *o.Pending, nil
		}
	}
	return 0, 0, fmt.Errorf("%s has no outbound link to %s", r.Name, dest)
}

// pollUntil polls check every 20 ms until it returns nil, or returns its last
// error once timeout has passed.
func pollUntil(ctx context.Context, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// writeItems writes n distinct items into the catch-up table through c,
// 25 a request from the given number of workers, until every one is
// acknowledged (unprocessed items are sent again).
func writeItems(ctx context.Context, c *dynamodb.Client, n, itemSize, workers int) error {
	value := &types.AttributeValueMemberS{Value: strings.Repeat("v", itemSize)}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from := int(next.Add(25)) - 25
				if from >= n {
					return
				}
				reqs := make([]types.WriteRequest, 0, 25)
				for i := from; i < min(from+25, n); i++ {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("c%09d", i)}, "v": value}}})
				}
				for len(reqs) > 0 {
					out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{catchupTable: reqs}})
					if err != nil {
						errs <- fmt.Errorf("BatchWriteItem: %w", err)
						return
					}
					reqs = out.UnprocessedItems[catchupTable]
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs // nil if every worker finished
}
