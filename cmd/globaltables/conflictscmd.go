package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/conflict"
	"github.com/globaltables/globaltables/region"
)

func newConflictsCmd() *cobra.Command {
	var configPath, table string
	var limit int
	var asJSON, verbose bool
	cmd := &cobra.Command{
		Use:   "conflicts",
		Short: "List the writes that last-writer-wins overwrote, from every region",
		Long: `Read the conflict logs of every region of a topology: each entry is a write
that was overwritten by a concurrent write from another region (neither
writer had seen the other's write). A conflict is usually detected in more
than one region; it is listed once.

One line per conflict: the table, the item's key, and the winning and the
losing write, each as the region that made it and the wall-clock time of
its version (local time). --verbose adds the losing item.`,
		Example: `  globaltables conflicts --table Music
  TABLE  KEY                                     WINNER                                  LOSER (overwritten)
  Music  Artist=Acme Band, SongTitle=Happy Day   eu-west-1 at Nov 30 07:00:05.123        us-east-1 at Nov 30 07:00:05.100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := loadTopology(configPath)
			if err != nil {
				return err
			}
			var all []region.ConflictRecord
			seen := map[string]bool{}
			for _, r := range t.Regions {
				q := url.Values{"limit": {strconv.Itoa(limit)}}
				if table != "" {
					q.Set("table", table)
				}
				var c region.Conflicts
				if err := regionGet(cmd.Context(), t, r, region.ConflictsPath+"?"+q.Encode(), &c); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", r.Name, err)
					continue
				}
				for _, rec := range c.Records {
					id := rec.Table + "\x00" + string(rec.Key) + "\x00" + rec.Loser
					if seen[id] {
						continue
					}
					seen[id] = true
					all = append(all, rec)
				}
			}
			sort.Slice(all, func(i, j int) bool { return all[i].DetectedAt.Before(all[j].DetectedAt) })
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(all)
			}
			printConflicts(out, all, verbose)
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", DefaultTopology, "topology file (HCL)")
	cmd.Flags().StringVar(&table, "table", "", "only this table")
	cmd.Flags().IntVar(&limit, "limit", 1000, "most records to read from each region")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the records as JSON")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "add the losing item to each line")
	return cmd
}

// printConflicts prints one line per conflict.
func printConflicts(out io.Writer, all []region.ConflictRecord, verbose bool) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	header := "TABLE\tKEY\tWINNER\tLOSER (overwritten)"
	if verbose {
		header += "\tLOSING ITEM"
	}
	fmt.Fprintln(w, header)
	for _, rec := range all {
		line := fmt.Sprintf("%s\t%s\t%s\t%s", rec.Table, compactItem(rec.Key), versionText(rec.Winner, rec.WinnerItem == nil),
			versionText(rec.Loser, rec.LoserItem == nil))
		if verbose {
			item := "(a delete)"
			if rec.LoserItem != nil {
				item = compactItem(rec.LoserItem)
			}
			line += "\t" + item
		}
		fmt.Fprintln(w, line)
	}
	w.Flush()
	fmt.Fprintf(out, "%d conflicts\n", len(all))
}

// versionText renders a version token as the region that made the write
// and its wall-clock time, e.g. "eu-west-1 at Nov 30 07:00:05.123";
// deleted says the write was a delete.
func versionText(token string, deleted bool) string {
	v, err := conflict.ParseToken(token)
	if err != nil {
		return token // not a version this build can read: shown as it is
	}
	s := fmt.Sprintf("%s at %s", v.Region, v.Time().Local().Format(time.StampMilli))
	if deleted {
		s += " (delete)"
	}
	return s
}

// compactItem renders an item or key in DynamoDB JSON on one line, in its
// attributes' order: "Artist=Acme Band, SongTitle=Happy Day". What it
// cannot read is shown as compact JSON.
func compactItem(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return compactJSON(raw)
	}
	var parts []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return compactJSON(raw)
		}
		name, _ := tok.(string)
		var av map[string]json.RawMessage
		if err := dec.Decode(&av); err != nil {
			return compactJSON(raw)
		}
		parts = append(parts, name+"="+attrText(av))
	}
	return strings.Join(parts, ", ")
}

// attrText renders one attribute value: strings, numbers and binaries
// as they are, sets in brackets, anything else as compact JSON.
func attrText(av map[string]json.RawMessage) string {
	for typ, v := range av {
		switch typ {
		case "S", "N", "B":
			var s string
			if json.Unmarshal(v, &s) == nil {
				return s
			}
		case "SS", "NS", "BS":
			var ss []string
			if json.Unmarshal(v, &ss) == nil {
				return "[" + strings.Join(ss, " ") + "]"
			}
		case "BOOL":
			return string(v)
		case "NULL":
			return "null"
		}
		return compactJSON(v)
	}
	return "?"
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}
