package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
)

// replStep is one measured step of the replication benchmark.
type replStep struct {
	Rate     int     `json:"target_writes_per_sec"`
	Batch    bool    `json:"batch_write"`
	Achieved float64 `json:"achieved_writes_per_sec"`
	Errors   int64   `json:"errors"`
	MaxPend  uint64  `json:"max_pending"`
	// PendUnknown counts the samples of pending changes that could not be
	// taken (a region's status unanswered, a link disconnected): they are
	// left out of MaxPend, not counted as a number.
	PendUnknown int           `json:"pending_unknown_samples"`
	Drain       time.Duration `json:"drain_ns"`
	KeptUp      bool          `json:"kept_up"`
	Regions     int           `json:"regions"`
	// Links are the regions' own figures per link, from their status:
	// the latency from the origin's commit to the destination's apply,
	// on the two regions' clocks, over the regions' life.
	Links    []region.LinkStatus `json:"links"`
	Duration time.Duration       `json:"duration_ns"`
	FirstErr string              `json:"first_error,omitempty"`
	// Cost is CPU per replicated write and each region's CPU and memory.
	Cost replCost `json:"cost"`
	// Lag is the lag measured from outside (nil with --probe-rate 0).
	Lag *outsideLag `json:"outside_lag,omitempty"`
	// Saturation marks, under --saturate, the highest rate kept up.
	Saturation bool `json:"saturation,omitempty"`
}

// replConfig is what one step runs.
type replConfig struct {
	Regions   int
	Rate      int
	Batch     bool
	Duration  time.Duration
	ItemSize  int
	Workers   int
	ProbeRate float64 // lag probes started per second on each directed link; 0: none
	PProf     bool
	NoShaper  bool
}

// benchRegionNames returns n region names: real AWS region names for the
// first seven, numbered ones after.
func benchRegionNames(n int) []string {
	known := []string{"us-east-1", "eu-west-1", "ap-southeast-1", "us-west-2", "eu-central-1", "ap-northeast-1", "sa-east-1"}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if i < len(known) {
			out = append(out, known[i])
		} else {
			out = append(out, fmt.Sprintf("region-%d", i+1))
		}
	}
	return out
}

func newBenchReplicationCmd() *cobra.Command {
	var (
		cfg      replConfig
		rates    []int
		batch    []int
		asJSON   bool
		compare  int
		saturate bool
	)
	var regionBin string
	cmd := &cobra.Command{
		Use:   "replication",
		Short: "Measure replication latency, CPU per replicated write and the highest write rate every region keeps up with",
		Long: `Start a fresh topology of region processes for each step, write into all
regions at a fixed rate through the DynamoDB API (PutItem, or BatchWriteItem
of 25 items for the --batch-rates), and report:

- CPU per replicated write: the region processes' CPU time (user + system,
  embedded NATS included) from the start of the load until every link has
  drained, divided by the origin writes acknowledged (load and probes); one
  replicated write is one origin commit plus N-1 remote applies. Per region,
  CPU as % of a core and resident memory (now and peak). The bench client's
  own CPU is shown apart.
- Lag measured from outside: probe items written into one region, then read
  with GetItem in another, back to back, until a response holds them; from
  the PutItem's acknowledgement to that response (--probe-rate per directed
  link; 0 turns the probe off, e.g. to measure CPU without its reads).
- Per directed link, the regions' own figures: origin commit to destination
  apply (from their status), the most changes pending, and how long the
  links took to drain after the load stopped. A step keeps up when the
  regions took the target rate and pending stayed bounded.

--saturate raises the rate from the first --rates value by half each step
until a step does not keep up, and marks the highest step kept up.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Regions < 2 {
				return usagef("--regions: at least 2 (replication needs two regions)")
			}
			if len(rates) == 0 && saturate {
				return usagef("--saturate starts from the first --rates value: give one")
			}
			self, err := regionBinary(regionBin)
			if err != nil {
				return err
			}
			if compare > 0 {
				c := cfg
				c.Rate, c.ProbeRate = rates[0], 0
				return compareShaper(cmd.Context(), cmd.OutOrStdout(), self, c, compare)
			}
			var steps []*replStep
			run := func(rate int, b bool) (*replStep, error) {
				c := cfg
				c.Rate, c.Batch = rate, b
				st, err := runReplStep(cmd.Context(), self, c, cmd.ErrOrStderr())
				if err != nil {
					return nil, err
				}
				steps = append(steps, st)
				if !asJSON {
					printReplStep(cmd.OutOrStdout(), st)
				}
				return st, nil
			}
			if saturate {
				if err := saturateSteps(rates[0], len(batch) > 0, func(rate int, b bool) (*replStep, error) { return run(rate, b) }); err != nil {
					return err
				}
			} else {
				for _, r := range rates {
					if _, err := run(r, false); err != nil {
						return err
					}
				}
				for _, r := range batch {
					if _, err := run(r, true); err != nil {
						return err
					}
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(steps)
			}
			if saturate {
				printSaturation(cmd.OutOrStdout(), steps)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntSliceVar(&rates, "rates", []int{1000}, "total PutItem rates to measure, writes/s spread over the regions")
	f.IntSliceVar(&batch, "batch-rates", nil, "total rates to measure with BatchWriteItem (25 items a request); with --saturate, any value makes it use BatchWriteItem")
	f.DurationVar(&cfg.Duration, "duration", 20*time.Second, "measured duration of each step")
	f.IntVar(&cfg.Regions, "regions", 3, "regions in the topology")
	f.IntVar(&cfg.ItemSize, "item-size", 200, "payload bytes per item")
	f.IntVar(&cfg.Workers, "workers", 32, "concurrent clients")
	f.Float64Var(&cfg.ProbeRate, "probe-rate", 20, "lag probes started per second on each directed link (0: no probe)")
	f.BoolVar(&saturate, "saturate", false, "raise the rate from the first --rates value by 50% a step until the regions no longer keep up")
	f.BoolVar(&asJSON, "json", false, "print the steps as JSON")
	f.BoolVar(&cfg.PProf, "pprof", false, "start the regions with --pprof, to profile them while a step runs")
	f.BoolVar(&cfg.NoShaper, "no-shaper", false, "connect links directly, without the shaping proxies (to measure what they cost)")
	f.StringVar(&regionBin, "region-binary", "", "run the regions with this globaltables binary instead of this one (compare builds: the same client and measures for both)")
	f.IntVar(&compare, "compare-shaper", 0, "run N interleaved pairs of steps at the first rate, with and without the shaping proxies, and compare their medians")
	return cmd
}

// saturateMaxSteps bounds --saturate: from 1,000 writes/s, 1.5^11 is
// 86,000 writes/s, beyond anything a laptop keeps up with.
const saturateMaxSteps = 12

// saturateSteps runs steps from rate up, each 50% above the last, until
// one does not keep up, and marks the highest that did.
func saturateSteps(rate int, batch bool, run func(rate int, batch bool) (*replStep, error)) error {
	var best *replStep
	for i := 0; i < saturateMaxSteps; i++ {
		st, err := run(rate, batch)
		if err != nil {
			return err
		}
		if !st.KeptUp {
			break
		}
		best = st
		rate = rate * 3 / 2
	}
	if best != nil {
		best.Saturation = true
	}
	return nil
}

// runReplStep runs one step on a fresh topology.
func runReplStep(ctx context.Context, self string, cfg replConfig, logw io.Writer) (*replStep, error) {
	n := cfg.Regions
	names := benchRegionNames(n)
	bt, err := startBenchTopology(ctx, self, "globaltables-benchrepl", names, fmt.Sprintf("global_tables = true\nno_link_shaping = %v", cfg.NoShaper), cfg.PProf, logw)
	if err != nil {
		return nil, err
	}
	defer bt.Close()
	t, sup := bt.T, bt.Sup
	clients := make([]*dynamodb.Client, n)
	probeClients := make([]*dynamodb.Client, n)
	for i, r := range t.Regions {
		clients[i] = bench.Client("http://"+r.Listen, cfg.Workers)
		probeClients[i] = bench.Client("http://"+r.Listen, 2)
	}
	if err := ensureGlobalTable(ctx, t, "benchrepl"); err != nil {
		return nil, err
	}
	if err := awaitLinks(ctx, t); err != nil {
		return nil, err
	}
	// The regions' idle CPU, settled and before the load: what they use
	// without it (the links' keep-alives, timers).
	idle0 := sampleCPU(sup, names)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(idleWindow):
	}
	idle1 := sampleCPU(sup, names)

	st := &replStep{Rate: cfg.Rate, Batch: cfg.Batch, Duration: cfg.Duration, Regions: n}
	var acked, errs atomic.Int64
	var firstErr atomic.Value
	value := strings.Repeat("v", cfg.ItemSize)
	lctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	// Open-loop load: a ticker hands out write permits at the target
	// rate; workers take them. Permits not taken in time are dropped, so
	// a slow system shows as a lower achieved rate.
	per := 1
	if cfg.Batch {
		per = 25
	}
	permits := make(chan int, cfg.Workers)
	var wg sync.WaitGroup
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			seq := 0
			for i := range permits {
				c := clients[i%n]
				seq++
				var err error
				if cfg.Batch {
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
	// Sample pending, and probe the lag, while the load runs.
	var maxPend atomic.Uint64
	var pendUnknown atomic.Int64
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
			p, ok := pendingTotal(sctx, t)
			if !ok {
				if sctx.Err() == nil {
					pendUnknown.Add(1)
				}
				continue
			}
			if p > maxPend.Load() {
				maxPend.Store(p)
			}
		}
	}()
	var prober *lagProber
	var pwg sync.WaitGroup
	if cfg.ProbeRate > 0 {
		prober = newLagProber(names, probeClients, "benchrepl", cfg.ProbeRate)
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			prober.Run(lctx)
		}()
	}
	cpu0 := sampleCPU(sup, names)
	start := cpu0.At
	interval := time.Duration(float64(time.Second) * float64(per) / float64(cfg.Rate))
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
	pwg.Wait()
	elapsed := time.Since(start)
	mem := sampleMemory(sup, names)
	st.Achieved = float64(acked.Load()) / elapsed.Seconds()
	st.Errors = errs.Load()
	if v := firstErr.Load(); v != nil {
		st.FirstErr = v.(string)
	}
	drainStart := time.Now()
	for !drained(ctx, t) && time.Since(drainStart) < time.Minute {
		time.Sleep(50 * time.Millisecond)
	}
	st.Drain = time.Since(drainStart)
	cpu1 := sampleCPU(sup, names)
	scancel()
	swg.Wait()
	st.MaxPend = maxPend.Load()
	st.PendUnknown = int(pendUnknown.Load())
	writes := acked.Load()
	if prober != nil {
		st.Lag = prober.Result()
		writes += st.Lag.Writes
	}
	st.Cost = costOf(names, cpu0, cpu1, mem, writes)
	st.Cost.addIdle(names, idle0, idle1)
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
	st.KeptUp = st.Achieved >= 0.95*float64(cfg.Rate) && float64(st.MaxPend) < 2*float64(cfg.Rate) && st.Drain < 5*time.Second && drained(ctx, t)
	return st, nil
}

// pendingTotal is the sum of every region's link pending counts and
// publisher backlogs; ok is false when some region did not answer or some
// link is disconnected or not set up yet (unknown, not a number).
func pendingTotal(ctx context.Context, t *topology.Topology) (n uint64, ok bool) {
	for _, r := range t.Regions {
		var s region.Status
		if err := getJSON(ctx, "http://"+r.Listen+region.StatusPath, &s); err != nil {
			return 0, false
		}
		if len(s.Links) < len(t.Regions)-1 {
			return 0, false
		}
		for _, l := range s.Links {
			if l.Pending == nil {
				return 0, false
			}
			n += *l.Pending
		}
		if s.Publisher != nil {
			n += s.Publisher.Backlog
		}
	}
	return n, true
}

// drained reports whether every link is connected with nothing pending.
func drained(ctx context.Context, t *topology.Topology) bool {
	n, ok := pendingTotal(ctx, t)
	return ok && n == 0
}

// awaitLinks waits until every link of t is connected with nothing
// pending, so that a step's load and CPU window start on a settled
// topology, not during the links' first connection and catch-up.
func awaitLinks(ctx context.Context, t *topology.Topology) error {
	deadline := time.Now().Add(time.Minute)
	for !drained(ctx, t) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the links of the %d regions were not all connected and drained within a minute", len(t.Regions))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}
