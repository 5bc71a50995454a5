package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/cmd/globaltables/supervise"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
)

// replStep is one measured step of the replication benchmark.
type replStep struct {
	Rate      int           `json:"target_writes_per_sec"`
	Batch     bool          `json:"batch_write"`
	Achieved  float64       `json:"achieved_writes_per_sec"`
	Errors    int64         `json:"errors"`
	MaxPend   uint64        `json:"max_pending"`
	Drain     time.Duration `json:"drain_ns"`
	KeptUp    bool          `json:"kept_up"`
	Links     []region.LinkStatus
	Duration  time.Duration `json:"duration_ns"`
	FirstErr  string        `json:"first_error,omitempty"`
	Endpoints []string      `json:"-"`
}

func newBenchReplicationCmd() *cobra.Command {
	var (
		rates    []int
		batch    []int
		duration time.Duration
		regions  int
		itemSize int
		workers  int
		asJSON   bool
		pprof    bool
		noShaper bool
		compare  int
	)
	cmd := &cobra.Command{
		Use:   "replication",
		Short: "Measure replication latency and the highest write rate every region keeps up with",
		Long: `Start a fresh topology of region processes for each step, write into all
regions at a fixed rate through the DynamoDB API (PutItem, or BatchWriteItem
of 25 items for the --batch-rates), and report per directed link the
replication latency from the commit in the origin to the apply in the
destination, the most changes a link had pending during the step, and how
long the links took to drain after the load stopped. A step keeps up when
the regions took the target rate and pending stayed bounded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			if compare > 0 {
				return compareShaper(cmd.Context(), cmd.OutOrStdout(), self, regions, rates[0], duration, itemSize, workers, compare)
			}
			var steps []*replStep
			run := func(rate int, b bool) error {
				st, err := runReplStep(cmd.Context(), self, regions, rate, b, duration, itemSize, workers, pprof, noShaper, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				steps = append(steps, st)
				if !asJSON {
					printReplStep(cmd.OutOrStdout(), st)
				}
				return nil
			}
			for _, r := range rates {
				if err := run(r, false); err != nil {
					return err
				}
			}
			for _, r := range batch {
				if err := run(r, true); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(steps)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&rates, "rates", []int{1000}, "total PutItem rates to measure, writes/s spread over the regions")
	f.IntSliceVar(&batch, "batch-rates", nil, "total rates to measure with BatchWriteItem (25 items a request)")
	f.DurationVar(&duration, "duration", 20*time.Second, "measured duration of each step")
	f.IntVar(&regions, "regions", 3, "regions in the topology")
	f.IntVar(&itemSize, "item-size", 200, "payload bytes per item")
	f.IntVar(&workers, "workers", 32, "concurrent clients")
	f.BoolVar(&asJSON, "json", false, "print the steps as JSON")
	f.BoolVar(&pprof, "pprof", false, "start the regions with --pprof, to profile them while a step runs")
	f.BoolVar(&noShaper, "no-shaper", false, "connect links directly, without the shaping proxies (to measure what they cost)")
	f.IntVar(&compare, "compare-shaper", 0, "run N interleaved pairs of steps at the first rate, with and without the shaping proxies, and compare their medians")
	return cmd
}

// runReplStep runs one step on a fresh topology.
func runReplStep(ctx context.Context, self string, n, rate int, batch bool, d time.Duration, itemSize, workers int, pprof, noShaper bool, logw io.Writer) (*replStep, error) {
	dir, err := os.MkdirTemp("", "globaltables-benchrepl")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	names := []string{"us-east-1", "eu-west-1", "ap-southeast-1", "us-west-2", "eu-central-1"}[:n]
	t, err := tempTopology(dir, names, fmt.Sprintf("global_tables = true\nno_link_shaping = %v", noShaper))
	if err != nil {
		return nil, err
	}
	sup := supervise.New(logw)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		sup.Stop(sctx)
	}()
	var args []string
	if pprof {
		args = append(args, "--pprof")
		for _, r := range t.Regions {
			fmt.Fprintf(logw, "%s profiles at http://%s/debug/pprof/\n", r.Name, r.Listen)
		}
	}
	if err := startTopology(ctx, sup, self, t, args...); err != nil {
		return nil, err
	}
	clients := make([]*dynamodb.Client, n)
	for i, r := range t.Regions {
		clients[i] = bench.Client("http://"+r.Listen, workers)
	}
	if err := ensureGlobalTable(ctx, t, "benchrepl"); err != nil {
		return nil, err
	}

	st := &replStep{Rate: rate, Batch: batch, Duration: d}
	var acked, errs atomic.Int64
	var firstErr atomic.Value
	value := strings.Repeat("v", itemSize)
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	// Open-loop load: a ticker hands out write permits at the target
	// rate; workers take them. Permits not taken in time are dropped, so
	// a slow system shows as a lower achieved rate.
	per := 1
	if batch {
		per = 25
	}
	permits := make(chan int, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			seq := 0
			for i := range permits {
				c := clients[i%n]
				seq++
				var err error
				if batch {
					reqs := make([]types.WriteRequest, per)
					for j := range reqs {
						reqs[j] = types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
							"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("w%d-%d-%d", w, seq, j)},
							"v":  &types.AttributeValueMemberS{Value: value}}}}
					}
					_, err = c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"benchrepl": reqs}})
				} else {
					_, err = c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("benchrepl"), Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("w%d-%d", w, seq)},
						"v":  &types.AttributeValueMemberS{Value: value}}})
				}
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				acked.Add(int64(per))
			}
		}(w)
	}
	// Sample pending while the load runs.
	var maxPend atomic.Uint64
	sctx, scancel := context.WithCancel(ctx)
	var swg sync.WaitGroup
	swg.Add(1)
	go func() {
		defer swg.Done()
		tk := time.NewTicker(500 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-tk.C:
			}
			if p := pendingTotal(sctx, t); p > maxPend.Load() {
				maxPend.Store(p)
			}
		}
	}()
	start := time.Now()
	interval := time.Duration(float64(time.Second) * float64(per) / float64(rate))
	next := start
	i := 0
loop:
	for {
		next = next.Add(interval)
		if wait := time.Until(next); wait > 0 {
			select {
			case <-lctx.Done():
				break loop
			case <-time.After(wait):
			}
		}
		if lctx.Err() != nil {
			break
		}
		select {
		case permits <- i:
			i++
		default: // every worker busy: the permit is lost
		}
	}
	close(permits)
	wg.Wait()
	elapsed := time.Since(start)
	st.Achieved = float64(acked.Load()) / elapsed.Seconds()
	st.Errors = errs.Load()
	if v := firstErr.Load(); v != nil {
		st.FirstErr = v.(string)
	}
	drainStart := time.Now()
	for pendingTotal(ctx, t) > 0 && time.Since(drainStart) < time.Minute {
		time.Sleep(50 * time.Millisecond)
	}
	st.Drain = time.Since(drainStart)
	scancel()
	swg.Wait()
	st.MaxPend = maxPend.Load()
	for _, r := range t.Regions {
		var s region.Status
		if err := getJSON(ctx, "http://"+r.Listen+region.StatusPath, &s); err == nil {
			st.Links = append(st.Links, s.Links...)
		}
	}
	sort.Slice(st.Links, func(i, j int) bool {
		if st.Links[i].Source != st.Links[j].Source {
			return st.Links[i].Source < st.Links[j].Source
		}
		return st.Links[i].Dest < st.Links[j].Dest
	})
	// Kept up: took at least 95% of the target, and what was pending at
	// any moment was less than two seconds of writes.
	st.KeptUp = st.Achieved >= 0.95*float64(rate) && float64(st.MaxPend) < 2*float64(rate) && st.Drain < 5*time.Second
	return st, nil
}

// pendingTotal is the sum of every region's link pending counts and
// publisher backlogs.
func pendingTotal(ctx context.Context, t *topology.Topology) uint64 {
	var n uint64
	for _, r := range t.Regions {
		var s region.Status
		if err := getJSON(ctx, "http://"+r.Listen+region.StatusPath, &s); err != nil {
			return 1 << 62
		}
		for _, l := range s.Links {
			if l.Pending == nil { // disconnected: not drained
				return 1 << 62
			}
			n += *l.Pending
		}
		if s.Publisher != nil {
			n += s.Publisher.Backlog
		}
	}
	return n
}

func printReplStep(out io.Writer, st *replStep) {
	mode := "PutItem"
	if st.Batch {
		mode = "BatchWriteItem x25"
	}
	fmt.Fprintf(out, "\n%d writes/s target (%s) for %s: achieved %.0f writes/s, %d errors, max pending %d, drained in %s, kept up: %v\n",
		st.Rate, mode, st.Duration, st.Achieved, st.Errors, st.MaxPend, st.Drain.Round(time.Millisecond), st.KeptUp)
	if st.FirstErr != "" {
		fmt.Fprintf(out, "first error: %s\n", st.FirstErr)
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "LINK\tAPPLIED\tP50\tP99\tMAX\t")
	for _, l := range st.Links {
		fmt.Fprintf(w, "%s → %s\t%d\t%s\t%s\t%s\t\n", l.Source, l.Dest, l.Applied, fmtMs(l.P50AllMs), fmtMs(l.P99AllMs), fmtMs(l.MaxAllMs))
	}
	w.Flush()
}

// freeLoopbackPorts returns n loopback ports that were free a moment ago.
func freeLoopbackPorts(n int) ([]int, error) {
	var out []int
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		closers = append(closers, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// compareShaper measures what the shaping proxies cost: pairs of steps
// with and without them, interleaved so that the machine's drift affects
// both alike, compared by the median over runs of the links' mean p50 and
// p99.
func compareShaper(ctx context.Context, out io.Writer, self string, regions, rate int, d time.Duration, itemSize, workers, pairs int) error {
	var p50 [2][]float64
	var p99 [2][]float64
	for i := 0; i < pairs; i++ {
		for mode, noShaper := range []bool{false, true} {
			st, err := runReplStep(ctx, self, regions, rate, false, d, itemSize, workers, false, noShaper, io.Discard)
			if err != nil {
				return err
			}
			var a, b float64
			for _, l := range st.Links {
				a += l.P50AllMs
				b += l.P99AllMs
			}
			n := float64(len(st.Links))
			p50[mode] = append(p50[mode], a/n)
			p99[mode] = append(p99[mode], b/n)
			fmt.Fprintf(out, "pair %d, %-15s p50 %.2f ms, p99 %.2f ms\n", i+1, map[bool]string{false: "with shaper:", true: "without shaper:"}[noShaper], a/n, b/n)
		}
	}
	med := func(v []float64) float64 {
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		return s[len(s)/2]
	}
	fmt.Fprintf(out, "\nmedian over %d runs each at %d writes/s: with shaper p50 %.2f ms p99 %.2f ms; without p50 %.2f ms p99 %.2f ms; ratio p50 %.2f, p99 %.2f\n",
		pairs, rate, med(p50[0]), med(p99[0]), med(p50[1]), med(p99[1]), med(p50[0])/med(p50[1]), med(p99[0])/med(p99[1]))
	return nil
}
