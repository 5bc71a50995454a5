package topology

import (
	"fmt"
	"slices"
	"time"

	"github.com/globaltables/globaltables/region/trigger"
)

// Trigger is a trigger block: a local trigger, which emulates a Lambda
// event source mapping on a table's stream, run by each region it names
// (by default every region) on that region's replica of the table.
//
//	trigger "audit" {
//	  table   = "Music"
//	  command = "python3 handler.py"   # or url = "http://127.0.0.1:9000/"
//	  regions = ["us-east-1"]          # default: every region
//	}
type Trigger struct {
	Name    string   `hcl:"name,label"`
	Table   string   `hcl:"table"`
	Regions []string `hcl:"regions,optional"`
	Command string   `hcl:"command,optional"`
	URL     string   `hcl:"url,optional"`
	// BatchSize is the largest batch, in records (default 100).
	BatchSize int `hcl:"batch_size,optional"`
	// BatchingWindow, e.g. "2s", is how long a batch waits for more
	// records (default 0).
	BatchingWindow string `hcl:"batching_window,optional"`
	// StartingPosition is "trim-horizon" (default) or "latest".
	StartingPosition string `hcl:"starting_position,optional"`
	// MaxRetries is how often a failed batch is retried (default 3).
	MaxRetries *int `hcl:"max_retries,optional"`
	// Bisect splits a batch that keeps failing (default true).
	Bisect *bool `hcl:"bisect,optional"`
	// Timeout bounds one delivery, e.g. "30s" (the default).
	Timeout string `hcl:"timeout,optional"`
}

// spec returns the trigger's specification, normalized.
func (tr Trigger) spec() (trigger.Spec, error) {
	s := trigger.Spec{Name: tr.Name, Table: tr.Table, Command: tr.Command, URL: tr.URL, BatchSize: tr.BatchSize,
		StartingPosition: tr.StartingPosition, MaxRetries: tr.MaxRetries, Bisect: tr.Bisect, Source: trigger.SourceTopology}
	for _, d := range []struct {
		name, v string
		dst     *trigger.Duration
	}{{"batching_window", tr.BatchingWindow, &s.BatchingWindow}, {"timeout", tr.Timeout, &s.Timeout}} {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil {
			return s, fmt.Errorf("trigger %q: %s: %w", tr.Name, d.name, err)
		}
		*d.dst = trigger.Duration(v)
	}
	if err := s.Normalize(); err != nil {
		return s, err
	}
	return s, nil
}

// validateTriggers checks the trigger blocks.
func (t *Topology) validateTriggers() []error {
	var errs []error
	names := map[string]bool{}
	for _, tr := range t.Triggers {
		if names[tr.Name] {
			errs = append(errs, fmt.Errorf("two trigger blocks are named %q", tr.Name))
		}
		names[tr.Name] = true
		if _, err := tr.spec(); err != nil {
			errs = append(errs, err)
		}
		for _, r := range tr.Regions {
			if _, err := t.Region(r); err != nil {
				errs = append(errs, fmt.Errorf("trigger %q: %w", tr.Name, err))
			}
		}
	}
	return errs
}

// TriggersFor returns the specifications of the triggers region runs.
func (t *Topology) TriggersFor(region string) ([]trigger.Spec, error) {
	var out []trigger.Spec
	for _, tr := range t.Triggers {
		if len(tr.Regions) > 0 && !slices.Contains(tr.Regions, region) {
			continue
		}
		s, err := tr.spec()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
