package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/hcl/v2/hclsimple"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
)

func newExperimentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "experiment",
		Short: "Run a measured workload against a running topology",
	}
	var configPath, out, html, file string
	var cfg experiment.Config
	conflictCmd := &cobra.Command{
		Use:   "conflict",
		Short: "Write the same keys in several regions and measure conflicts, stale reads, latency and convergence",
		Long: `Drive writes and reads through the DynamoDB API into the chosen regions
(uniform or Zipf-distributed keys, a rate per region, a read/write mix, an
item size, a duration and a seed: the same seed gives the same workload),
then measure: replication latency per link over time, conflicts (how many,
which acknowledged writes were overwritten and by which region, how many
skewed clocks decided), stale reads (reads that missed a write already
acknowledged in another region, and by how long), and the time the regions
took to converge after the load stopped.`,
		Example: `  globaltables experiment conflict --keys 50 --zipf 1.2 --rate 100 --duration 30s --out result.json
  globaltables experiment conflict --file hot-keys --html hot-keys.html   # a built-in experiment; a file path works too`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file != "" {
				if err := applyExperimentFile(cmd, file, &cfg); err != nil {
					return err
				}
			}
			t, err := loadTopology(configPath)
			if err != nil {
				return err
			}
			cfg.Endpoints = map[string]string{}
			for _, r := range t.Regions {
				cfg.Endpoints[r.Name] = "http://" + r.Listen
			}
			for _, r := range cfg.WriteRegions {
				if _, err := t.Region(r); err != nil {
					return usagef("--regions: %v", err)
				}
			}
			res, err := runExperiment(cmd.Context(), t, cfg, liveOutput(cmd.OutOrStdout()))
			if err != nil {
				return err
			}
			res.Summary(cmd.OutOrStdout())
			if out != "" {
				b, err := json.MarshalIndent(res, "", "  ")
				if err != nil {
					return err
				}
				if err := os.WriteFile(out, b, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "results written to %s\n", out)
			}
			if html != "" {
				f, err := os.Create(html)
				if err != nil {
					return err
				}
				rep := experiment.Report{Kind: "experiment", Name: "conflict", Topology: topologyText(t), Version: buildVersion()}
				if err := res.WriteHTML(f, rep); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "report written to %s (open it in a browser; it needs no network)\n", html)
			}
			if res.Interrupted {
				return errInterrupted
			}
			return nil
		},
	}
	f := conflictCmd.Flags()
	f.StringVar(&configPath, "config", DefaultTopology, "topology file (HCL) of the running regions")
	f.StringVar(&cfg.Table, "table", "experiment", "global table to use (created in every region if missing)")
	f.StringSliceVar(&cfg.WriteRegions, "regions", nil, "regions that take writes (default: all)")
	f.IntVar(&cfg.Keys, "keys", 100, "distinct keys")
	f.Float64Var(&cfg.Zipf, "zipf", 0, "Zipf exponent above 1 for hot keys (default: uniform)")
	f.Float64Var(&cfg.Rate, "rate", 50, "operations per second in each writing region")
	f.Float64Var(&cfg.ReadRatio, "read-ratio", 0.3, "fraction of operations that are reads")
	f.IntVar(&cfg.ItemSize, "item-size", 100, "payload bytes per written item")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long the load runs")
	f.Int64Var(&cfg.Seed, "seed", 1, "seed of the workload")
	f.StringVar(&out, "out", "", "write the results as JSON to this file")
	f.StringVar(&html, "html", "", "write a self-contained HTML report with charts to this file")
	f.StringVar(&file, "file", "", "read the experiment from a built-in one by name ("+strings.Join(embeddedNames("experiments"), ", ")+") or from an HCL file path (flags given as well override it), e.g. --file hot-keys")
	cmd.AddCommand(conflictCmd)
	return cmd
}

// errInterrupted ends a run that Ctrl-C cut short, after its partial
// results were written: the exit status is not 0.
var errInterrupted = errors.New("interrupted: the results cover only the part that ran")

// liveOutput returns w when it is a terminal, for a live progress line;
// nil otherwise (a file or pipe gets no redraws).
func liveOutput(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		return w
	}
	return nil
}

// topologyText names a topology's regions for a report's header.
func topologyText(t *topology.Topology) string {
	names := t.Names()
	return fmt.Sprintf("%d regions: %s", len(names), strings.Join(names, ", "))
}

// runExperiment prepares the table, runs the workload while monitoring
// the links (and, when live is not nil, drawing a progress line on it),
// waits for convergence and analyses what happened. A cancelled ctx
// (Ctrl-C) ends the load early: the result is marked Interrupted and
// convergence is not waited for.
func runExperiment(ctx context.Context, t *topology.Topology, cfg experiment.Config, live io.Writer) (*experiment.Result, error) {
	if err := ensureGlobalTable(ctx, t, cfg.Table); err != nil {
		return nil, err
	}
	rec := experiment.NewRecording(cfg)
	mon := experiment.NewMonitor(cfg)
	// The monitor outlives the load: it measures until convergence.
	mctx, stopMonitor := context.WithCancel(context.WithoutCancel(ctx))
	pctx, stopProgress := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		mon.Run(mctx, rec)
	}()
	if live != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			experiment.NewProgress(live).Run(pctx, rec, mon)
		}()
	}
	rec.Run(ctx)
	var after time.Duration
	var ok bool
	var digests map[string]region.Digest
	if !rec.Interrupted {
		after, ok, digests = experiment.Convergence(ctx, cfg.Endpoints, cfg.Table, 2*time.Minute)
	}
	stopProgress()
	stopMonitor()
	wg.Wait()
	// What the regions recorded is read even after Ctrl-C, briefly.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var records []region.ConflictRecord
	for _, ep := range cfg.Endpoints {
		var cs region.Conflicts
		q := url.Values{"table": {cfg.Table}, "limit": {strconv.Itoa(10000)}}
		if err := getJSON(qctx, ep+region.ConflictsPath+"?"+q.Encode(), &cs); err == nil {
			records = append(records, cs.Records...)
		}
	}
	return experiment.Analyse(rec, records, mon.Links(), after, ok, digests), nil
}

// ensureGlobalTable creates table in the first region with replicas in all
// the others, unless it exists, and waits until every replica is ACTIVE.
func ensureGlobalTable(ctx context.Context, t *topology.Topology, table string) error {
	first := bench.Client("http://"+t.Regions[0].Listen, 2)
	_, err := first.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	desc, err := first.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return err
	}
	have := map[string]bool{t.Regions[0].Name: true}
	for _, r := range desc.Table.Replicas {
		have[aws.ToString(r.RegionName)] = true
	}
	var updates []types.ReplicationGroupUpdate
	for _, r := range t.Regions[1:] {
		if !have[r.Name] {
			updates = append(updates, types.ReplicationGroupUpdate{Create: &types.CreateReplicationGroupMemberAction{RegionName: aws.String(r.Name)}})
		}
	}
	if len(updates) > 0 {
		if _, err := first.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table), ReplicaUpdates: updates}); err != nil {
			return fmt.Errorf("make %s global: %w", table, err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		ready := true
		for _, r := range t.Regions {
			d, err := bench.Client("http://"+r.Listen, 2).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
			if err != nil || len(d.Table.Replicas) != len(t.Regions) {
				ready = false
				break
			}
			for _, rp := range d.Table.Replicas {
				if rp.ReplicaStatus != types.ReplicaStatusActive {
					ready = false
				}
			}
		}
		if ready {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("table %s did not become ACTIVE in every region", table)
}

// experimentFile is an experiment written down for repeatable runs.
type experimentFile struct {
	Table     string   `hcl:"table,optional"`
	Regions   []string `hcl:"regions,optional"`
	Keys      int      `hcl:"keys,optional"`
	Zipf      float64  `hcl:"zipf,optional"`
	Rate      float64  `hcl:"rate,optional"`
	ReadRatio *float64 `hcl:"read_ratio,optional"`
	ItemSize  int      `hcl:"item_size,optional"`
	Duration  string   `hcl:"duration,optional"`
	Seed      int64    `hcl:"seed,optional"`
}

// applyExperimentFile sets cfg from an experiment file, except the values
// given by flags.
func applyExperimentFile(cmd *cobra.Command, path string, cfg *experiment.Config) error {
	var ef experimentFile
	name, src, err := readFileOrBuiltin("experiment", "experiments", path)
	if err != nil {
		return err
	}
	if err := hclsimple.Decode(name, src, nil, &ef); err != nil {
		return fmt.Errorf("read experiment %s: %w", path, err)
	}
	fl := cmd.Flags()
	set := func(flag string, ok bool, apply func()) {
		if ok && !fl.Changed(flag) {
			apply()
		}
	}
	set("table", ef.Table != "", func() { cfg.Table = ef.Table })
	set("regions", len(ef.Regions) > 0, func() { cfg.WriteRegions = ef.Regions })
	set("keys", ef.Keys > 0, func() { cfg.Keys = ef.Keys })
	set("zipf", ef.Zipf != 0, func() { cfg.Zipf = ef.Zipf })
	set("rate", ef.Rate > 0, func() { cfg.Rate = ef.Rate })
	set("read-ratio", ef.ReadRatio != nil, func() { cfg.ReadRatio = *ef.ReadRatio })
	set("item-size", ef.ItemSize > 0, func() { cfg.ItemSize = ef.ItemSize })
	set("seed", ef.Seed != 0, func() { cfg.Seed = ef.Seed })
	if ef.Duration != "" && !fl.Changed("duration") {
		d, err := time.ParseDuration(ef.Duration)
		if err != nil {
			return fmt.Errorf("experiment %s: duration: %w", path, err)
		}
		cfg.Duration = d
	}
	return nil
}
