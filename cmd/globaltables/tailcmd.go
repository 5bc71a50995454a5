package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/streamtail"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
)

func newTailCmd() *cobra.Command {
	var configPath, regionName, from string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tail TABLE",
		Short: "Follow a table's stream live in one region or all of them",
		Long: `Follow the DynamoDB stream of TABLE in a region (or every region, interleaved),
one line per record: time, event, key, the region the write came from, and a
note when a replicated change overwrote a concurrent local write (the local
write lost last-writer-wins). Each region's stream holds the changes that
region applied, local and replicated; a replicated change that lost there
writes no record. --json prints each record as GetRecords returns it, with
the lab's "globaltables" fields.`,
		Example: `  globaltables tail Music --region eu-west-1
  globaltables tail Music --region all --from latest`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := loadTopology(configPath)
			if err != nil {
				return err
			}
			regions := t.Regions
			if regionName != "all" {
				r, err := t.Region(regionName)
				if err != nil {
					return usagef("%v (or --region all)", err)
				}
				regions = []topology.Region{r}
			}
			if from != streamtail.FromTrimHorizon && from != streamtail.FromLatest {
				return usagef("--from %q: use trim-horizon or latest", from)
			}
			hc, err := cliHTTP(t, 10*time.Second)
			if err != nil {
				return err
			}
			var eps []*streamtail.Endpoint
			for _, r := range regions {
				ep := &streamtail.Endpoint{Region: r.Name, URL: r.Endpoint(), HTTP: hc}
				if creds := t.CredentialsFor(r.Name); len(creds) > 0 {
					ep.Credential = &creds[0]
				}
				eps = append(eps, ep)
			}
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			o := streamtail.Options{Table: args[0], From: from,
				Notice: func(region, msg string) { fmt.Fprintf(errOut, "%s: %s\n", region, msg) }}
			return streamtail.Follow(cmd.Context(), eps, o, func(l streamtail.Line) {
				if !asJSON {
					fmt.Fprintln(out, l.String())
					return
				}
				var b bytes.Buffer
				if json.Compact(&b, l.Raw) != nil {
					b.Reset()
					b.Write(l.Raw)
				}
				fmt.Fprintln(out, b.String())
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", DefaultTopology, "topology file (HCL)")
	f.StringVar(&regionName, "region", "all", "region whose stream to follow, or all")
	f.StringVar(&from, "from", streamtail.FromLatest, "where to start: trim-horizon (the oldest record kept) or latest")
	f.BoolVar(&asJSON, "json", false, "print each record as JSON, one per line")
	return cmd
}
