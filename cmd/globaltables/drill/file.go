package drill

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2/hclsimple"

	"github.com/globaltables/globaltables/cmd/globaltables/topology"
)

// Drill is a drill file: a workload and a timeline of steps.
type Drill struct {
	Name        string `hcl:"name"`
	Description string `hcl:"description,optional"`
	Load        *Load  `hcl:"load,block"`
	// Replication overrides the throwaway topology's replication
	// settings, e.g. a short stream_max_age and tombstone_horizon for a
	// drill of an outage longer than the horizon.
	Replication *topology.Replication `hcl:"replication,block"`
	Steps       []Step                `hcl:"step,block"`
}

// Load is the workload that runs during a drill.
type Load struct {
	Keys      int     `hcl:"keys,optional"`       // distinct keys written; default 100
	Rate      float64 `hcl:"rate,optional"`       // operations per second in each region; default 40
	ReadRatio float64 `hcl:"read_ratio,optional"` // fraction of operations that are reads
}

// Step is one step of a drill's timeline. Its kind (the block label)
// says which fields it uses:
//
//	start_load, stop_load           start or stop the workload
//	wait      for                   let time pass
//	kill      region                SIGKILL a region's process
//	stop      region                stop a region cleanly
//	restart   region                start a killed or stopped region again
//	isolate   region                cut every link from and to a region
//	cut       from, to              cut the link carrying from's changes to to
//	heal                            every link back to its configured shape
//	link      from, to, latency, jitter,  shape a link (the fields of a
//	          bandwidth_kbps, loss_percent topology's link block)
//	clock     region, offset, drift skew a region's clock
//	phase     name                  start a named phase of the results
//	assert    converged_within      wait for convergence, then judge
//
// and, for drills of the control plane, on tables of the drill's own
// (fixtures, checked by assert: see fixture):
//
//	table        table, region, items    create a table in one region and fill it
//	add_replica  table, region           add a replica of it (UpdateTable ReplicaUpdates)
//	add_index    table, index            add a global secondary index to it
//	delete_items table, region, items    delete its first items through a region
//	await        table, region, items, for   wait until a region holds that many of its items
type Step struct {
	Kind            string  `hcl:"kind,label"`
	For             string  `hcl:"for,optional"`
	Region          string  `hcl:"region,optional"`
	From            string  `hcl:"from,optional"`
	To              string  `hcl:"to,optional"`
	Latency         string  `hcl:"latency,optional"`
	Jitter          string  `hcl:"jitter,optional"`
	BandwidthKBps   int64   `hcl:"bandwidth_kbps,optional"`
	LossPercent     float64 `hcl:"loss_percent,optional"`
	Offset          string  `hcl:"offset,optional"`
	Drift           string  `hcl:"drift,optional"`
	Name            string  `hcl:"name,optional"`
	ConvergedWithin string  `hcl:"converged_within,optional"`
	Table           string  `hcl:"table,optional"`
	Index           string  `hcl:"index,optional"`
	Items           int     `hcl:"items,optional"`
}

// Parse reads a drill from HCL source; filename names it in errors.
func Parse(filename string, src []byte) (*Drill, error) {
	var d Drill
	if err := hclsimple.Decode(filename, src, nil, &d); err != nil {
		return nil, fmt.Errorf("read drill %s: %w", filename, err)
	}
	if d.Load == nil {
		d.Load = &Load{}
	}
	if d.Load.Keys <= 0 {
		d.Load.Keys = 100
	}
	if d.Load.Rate <= 0 {
		d.Load.Rate = 40
	}
	for i, s := range d.Steps {
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("drill %s, step %d (%s): %w", filename, i+1, s.Kind, err)
		}
	}
	return &d, nil
}

func (s Step) validate() error {
	need := func(name, v string) error {
		if v == "" {
			return fmt.Errorf("%s is required", name)
		}
		return nil
	}
	switch s.Kind {
	case "start_load", "stop_load", "heal":
	case "wait":
		if _, err := time.ParseDuration(s.For); err != nil {
			return fmt.Errorf("for: %w", err)
		}
	case "kill", "stop", "restart", "isolate":
		return need("region", s.Region)
	case "cut":
		if err := need("from", s.From); err != nil {
			return err
		}
		return need("to", s.To)
	case "link":
		if err := need("from", s.From); err != nil {
			return err
		}
		if err := need("to", s.To); err != nil {
			return err
		}
		_, err := s.link().Shape()
		return err
	case "clock":
		return need("region", s.Region)
	case "phase":
		return need("name", s.Name)
	case "assert":
		if s.ConvergedWithin != "" {
			if _, err := time.ParseDuration(s.ConvergedWithin); err != nil {
				return fmt.Errorf("converged_within: %w", err)
			}
		}
	case "table", "delete_items", "await":
		if err := need("table", s.Table); err != nil {
			return err
		}
		if s.Items <= 0 {
			return fmt.Errorf("items must be above 0")
		}
		if s.Kind == "await" && s.For != "" {
			if _, err := time.ParseDuration(s.For); err != nil {
				return fmt.Errorf("for: %w", err)
			}
		}
		return need("region", s.Region)
	case "add_replica":
		if err := need("table", s.Table); err != nil {
			return err
		}
		return need("region", s.Region)
	case "add_index":
		if err := need("table", s.Table); err != nil {
			return err
		}
		return need("index", s.Index)
	default:
		return fmt.Errorf("unknown step kind %q", s.Kind)
	}
	return nil
}

// link is a link step's shape in the topology's terms, which parse it.
func (s Step) link() topology.Link {
	return topology.Link{From: s.From, To: s.To, Latency: s.Latency, Jitter: s.Jitter,
		BandwidthKBps: s.BandwidthKBps, LossPercent: s.LossPercent}
}
