package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
)

func newBenchCmd() *cobra.Command {
	var cfg bench.Config
	var endpoints []string
	var pids []int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench --endpoint URL [--endpoint URL...]",
		Short: "Measure PutItem/GetItem throughput and latency of DynamoDB endpoints",
		Long: `Drive each endpoint in turn with the same load through the AWS SDK:
concurrent workers doing PutItem and GetItem on random keys, and report
operations per second and latency percentiles. Any DynamoDB-compatible
endpoint can be measured, so implementations can be compared like for like.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(endpoints) == 0 {
				return usagef("--endpoint is required (e.g. --endpoint http://127.0.0.1:8000)")
			}
			if len(pids) > 0 && len(pids) != len(endpoints) {
				return usagef("--server-pid: give one per --endpoint, in the same order (0 for an endpoint not measured)")
			}
			var results []*bench.Result
			for i, ep := range endpoints {
				c := cfg
				c.Endpoint = ep
				if len(pids) > 0 {
					c.ServerPID = pids[i]
				}
				r, err := bench.Run(cmd.Context(), c)
				if err != nil {
					return fmt.Errorf("bench %s: %w", ep, err)
				}
				results = append(results, r)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(results)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(w, "ENDPOINT\tOPS/S\tP50\tP90\tP99\tMAX\tERRORS\tSERVER CPU/OP\t")
			for _, r := range results {
				cpu := "-" // not measured: no --server-pid
				if r.ServerCPUPerOp > 0 {
					cpu = r.ServerCPUPerOp.Round(time.Microsecond).String()
				}
				fmt.Fprintf(w, "%s\t%.0f\t%s\t%s\t%s\t%s\t%d\t%s\t\n", r.Endpoint, r.OpsPerSec,
					round(r.P50), round(r.P90), round(r.P99), round(r.Max), r.Errors, cpu)
			}
			w.Flush()
			for _, r := range results {
				if r.FirstError != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: first error: %s\n", r.Endpoint, r.FirstError)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&endpoints, "endpoint", nil, "endpoint URL to measure (repeatable)")
	f.StringVar(&cfg.Table, "table", "bench", "table to use (created if missing: hash key pk, type S)")
	f.IntVar(&cfg.Workers, "workers", 8, "concurrent clients")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured duration")
	f.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "unmeasured warmup before the measured run")
	f.IntVar(&cfg.ItemSize, "item-size", 200, "payload bytes per written item")
	f.Float64Var(&cfg.ReadRatio, "read-ratio", 0.5, "fraction of operations that are GetItem")
	f.IntVar(&cfg.Keys, "keys", 10000, "distinct keys, written once before the run")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of the key sequence")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON")
	f.IntSliceVar(&pids, "server-pid", nil, "process ID of each endpoint's server, in --endpoint order (0: not measured): reports its CPU time per operation")
	cmd.AddCommand(newNullEndpointCmd(), newBenchReplicationCmd(), newBenchCatchupCmd())
	return cmd
}

// newNullEndpointCmd runs an endpoint that answers without doing any work,
// as a process of its own like the endpoints it is compared with.
func newNullEndpointCmd() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "null-endpoint",
		Short: "Serve canned DynamoDB responses, to measure the client's own ceiling",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := bench.StartNullEndpoint(listen)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "null endpoint serving endpoint=%s\n", n.URL())
			<-cmd.Context().Done()
			return n.Close()
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "host:port to listen on")
	return cmd
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 100*time.Microsecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
