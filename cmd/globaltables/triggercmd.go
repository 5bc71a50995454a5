package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/region/trigger"
)

// `globaltables trigger` manages a running region's local triggers through
// its control endpoint (region.TriggersPath); trigger blocks in the
// topology define the ones every start re-creates.

func newTriggerCmd() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "trigger",
		Short: "Add, list or remove local triggers (Lambda event source mappings on a region's stream)",
		Long: `A local trigger reads a table's stream in one region and delivers each batch
of records as the JSON event a Lambda function receives from DynamoDB
Streams: on standard input to a command, or POSTed to a URL. Failed batches
are retried, then bisected; records that still fail go to the trigger's
on-failure log in the region's data folder. Positions survive restarts.
See docs/triggers.md.`,
	}
	cmd.PersistentFlags().StringVar(&configPath, "config", DefaultTopology, "topology file (HCL)")
	cmd.AddCommand(newTriggerAddCmd(&configPath), newTriggerListCmd(&configPath), newTriggerRemoveCmd(&configPath))
	return cmd
}

func newTriggerAddCmd(configPath *string) *cobra.Command {
	var (
		s          trigger.Spec
		regionName string
		window     time.Duration
		timeout    time.Duration
		retries    int
		noBisect   bool
	)
	cmd := &cobra.Command{
		Use:   "add --table T --region R (--command CMD | --url URL)",
		Short: "Add a trigger to a running region",
		Example: `  globaltables trigger add --table Music --region eu-west-1 --command 'python3 handler.py'
  globaltables trigger add --table Music --region us-east-1 --url http://127.0.0.1:9000/ --batch-size 10 --batching-window 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := loadTopology(*configPath)
			if err != nil {
				return err
			}
			if regionName == "" || s.Table == "" {
				return usagef("--region and --table are required")
			}
			r, err := t.Region(regionName)
			if err != nil {
				return usagef("%v", err)
			}
			if s.Name == "" {
				b := make([]byte, 3)
				rand.Read(b)
				s.Name = s.Table + "-" + hex.EncodeToString(b)
			}
			s.BatchingWindow, s.Timeout = trigger.Duration(window), trigger.Duration(timeout)
			if cmd.Flags().Changed("max-retries") {
				s.MaxRetries = &retries
			}
			if noBisect {
				off := false
				s.Bisect = &off
			}
			check := s
			if err := check.Normalize(); err != nil {
				return usagef("%v", err)
			}
			var st trigger.Status
			if err := regionPut(cmd.Context(), t, r, region.TriggersPath+"/"+s.Name, s, &st); err != nil {
				return fmt.Errorf("add trigger in %s (is the region running?): %w", r.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trigger %s added in %s: table %s → %s (failures: %s)\n",
				st.Name, r.Name, st.Table, st.Target, st.FailureLog)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.Name, "name", "", "trigger name (default: TABLE-<random>)")
	f.StringVar(&s.Table, "table", "", "table whose stream the trigger reads (required)")
	f.StringVar(&regionName, "region", "", "region whose replica's stream is read (required)")
	f.StringVar(&s.Command, "command", "", "command run with /bin/sh -c for each batch, the event on its stdin; exit 0 is success")
	f.StringVar(&s.URL, "url", "", "URL each batch is POSTed to; a 2xx answer is success")
	f.IntVar(&s.BatchSize, "batch-size", trigger.DefaultBatchSize, "largest batch, in records (1 to 10000)")
	f.DurationVar(&window, "batching-window", 0, "how long a batch waits for more records (0 to 5m)")
	f.StringVar(&s.StartingPosition, "starting-position", "trim-horizon", "trim-horizon or latest")
	f.IntVar(&retries, "max-retries", trigger.DefaultMaxRetries, "retries of a failed batch before it is bisected or logged")
	f.BoolVar(&noBisect, "no-bisect", false, "do not split a failing batch: log it whole")
	f.DurationVar(&timeout, "timeout", trigger.DefaultTimeout, "bound on one delivery")
	return cmd
}

func newTriggerListCmd(configPath *string) *cobra.Command {
	var regionName string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the triggers of every region (or one), with their lag and errors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := loadTopology(*configPath)
			if err != nil {
				return err
			}
			regions := t.Regions
			if regionName != "" {
				r, err := t.Region(regionName)
				if err != nil {
					return usagef("%v", err)
				}
				regions = []topology.Region{r}
			}
			all := map[string][]trigger.Status{}
			var errs []string
			for _, r := range regions {
				var sts []trigger.Status
				if err := regionGet(cmd.Context(), t, r, region.TriggersPath, &sts); err != nil {
					errs = append(errs, fmt.Sprintf("%s: %v", r.Name, err))
					continue
				}
				all[r.Name] = sts
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(all)
			}
			statuses := make([]*region.Status, 0, len(regions))
			for _, r := range regions {
				if sts, ok := all[r.Name]; ok {
					statuses = append(statuses, &region.Status{Region: r.Name, Triggers: sts})
				}
			}
			if !printTriggers(out, statuses) {
				fmt.Fprintln(out, "no triggers")
			}
			for _, e := range errs {
				fmt.Fprintf(out, "unreachable: %s\n", e)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&regionName, "region", "", "only this region")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the triggers as JSON, by region")
	return cmd
}

func newTriggerRemoveCmd(configPath *string) *cobra.Command {
	var regionName string
	cmd := &cobra.Command{
		Use:   "remove NAME --region R",
		Short: "Remove a trigger added with 'trigger add' (its on-failure log is kept)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := loadTopology(*configPath)
			if err != nil {
				return err
			}
			if regionName == "" {
				return usagef("--region is required")
			}
			r, err := t.Region(regionName)
			if err != nil {
				return usagef("%v", err)
			}
			if err := regionPut(cmd.Context(), t, r, region.TriggersPath+"/"+args[0]+"/remove", struct{}{}, nil); err != nil {
				return fmt.Errorf("remove trigger %s in %s: %w", args[0], r.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trigger %s removed from %s\n", args[0], r.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&regionName, "region", "", "region of the trigger (required)")
	return cmd
}

// printTriggers prints the regions' triggers under a TRIGGER heading, and
// reports whether there was any.
func printTriggers(out io.Writer, statuses []*region.Status) bool {
	found := false
	for _, st := range statuses {
		if st != nil && len(st.Triggers) > 0 {
			found = true
		}
	}
	if !found {
		return false
	}
	fmt.Fprintln(out)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "TRIGGER\tREGION\tTABLE\tSTATE\tPENDING\tLAG\tDELIVERED\tFAILED\tERRORS\tLAST ERROR")
	for _, st := range statuses {
		if st == nil {
			continue
		}
		for _, tr := range st.Triggers {
			pending, lag := "unknown", "unknown"
			if tr.Pending != nil {
				pending = fmt.Sprint(*tr.Pending)
				if tr.PendingCapped {
					pending += "+"
				}
			}
			switch {
			case tr.LagMs == nil:
			case *tr.LagMs == 0:
				lag = "0" // nothing pending
			default:
				lag = fmtMs(*tr.LagMs)
			}
			last := tr.LastError
			if len(last) > 60 {
				last = last[:57] + "..."
			}
			last = strings.ReplaceAll(last, "\n", " ")
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", tr.Name, st.Region, tr.Table, tr.State,
				pending, lag, tr.Delivered, tr.Failed, tr.Errors, last)
		}
	}
	w.Flush()
	return true
}
