package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/hcl/v2/hclsimple"
	"github.com/spf13/cobra"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
	"github.com/globaltables/globaltables/cmd/globaltables/supervise"
	"github.com/globaltables/globaltables/cmd/globaltables/topology"
	"github.com/globaltables/globaltables/region"
)

// Drill is a drill file: a workload and a timeline of steps.
type Drill struct {
	Name        string     `hcl:"name"`
	Description string     `hcl:"description,optional"`
	Load        *DrillLoad `hcl:"load,block"`
	Steps       []Step     `hcl:"step,block"`
}

// DrillLoad is the workload that runs during a drill.
type DrillLoad struct {
	Keys      int     `hcl:"keys,optional"`
	Rate      float64 `hcl:"rate,optional"`
	ReadRatio float64 `hcl:"read_ratio,optional"`
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
//	link      from, to, latency, jitter   shape a link
//	clock     region, offset, drift skew a region's clock
//	phase     name                  start a named phase of the results
//	assert    converged_within      wait for convergence, then judge
type Step struct {
	Kind            string `hcl:"kind,label"`
	For             string `hcl:"for,optional"`
	Region          string `hcl:"region,optional"`
	From            string `hcl:"from,optional"`
	To              string `hcl:"to,optional"`
	Latency         string `hcl:"latency,optional"`
	Jitter          string `hcl:"jitter,optional"`
	Offset          string `hcl:"offset,optional"`
	Drift           string `hcl:"drift,optional"`
	Name            string `hcl:"name,optional"`
	ConvergedWithin string `hcl:"converged_within,optional"`
}

// LoadDrill reads a drill file.
func LoadDrill(path string) (*Drill, error) {
	var d Drill
	if err := hclsimple.DecodeFile(path, nil, &d); err != nil {
		return nil, fmt.Errorf("read drill %s: %w", path, err)
	}
	if d.Load == nil {
		d.Load = &DrillLoad{}
	}
	if d.Load.Keys <= 0 {
		d.Load.Keys = 100
	}
	if d.Load.Rate <= 0 {
		d.Load.Rate = 40
	}
	for i, s := range d.Steps {
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("drill %s, step %d (%s): %w", path, i+1, s.Kind, err)
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
		_, err := (topology.Link{From: s.From, To: s.To, Latency: s.Latency, Jitter: s.Jitter}).Shape()
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
	default:
		return fmt.Errorf("unknown step kind %q", s.Kind)
	}
	return nil
}

// phase is a named stretch of a drill, for per-phase results.
type phase struct {
	Name       string    `json:"name"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Writes     int       `json:"writes"`
	Conflicts  int       `json:"conflicts"`
	SkewWon    int       `json:"skew_decided"`
	StaleReads int       `json:"stale_reads"`
	Reads      int       `json:"reads"`
}

// DrillResult is a drill's outcome.
type DrillResult struct {
	Drill   string             `json:"drill"`
	Passed  bool               `json:"passed"`
	Verdict string             `json:"verdict"`
	Lost    []string           `json:"lost_writes,omitempty"`
	Unknown int                `json:"keys_with_unknown_final_writes"`
	AtRisk  map[string]uint64  `json:"at_risk_when_killed,omitempty"`
	Recover map[string]float64 `json:"recovery_seconds,omitempty"`
	Phases  []phase            `json:"phases,omitempty"`
	Result  *experiment.Result `json:"result"`
}

// drillRun is the state of a running drill.
type drillRun struct {
	t       *topology.Topology
	self    string
	sup     *supervise.Supervisor
	out     io.Writer
	cfg     experiment.Config
	events  []experiment.Event
	phases  []phase
	loadCtx context.CancelFunc
	loadRes chan *experiment.Recording
	sampler *experiment.Sampler
	res     DrillResult
	restart map[string]time.Time

	scale float64 // multiplies every wait, for short runs

	recoverWG sync.WaitGroup
	mu        sync.Mutex         // guards recovered, events and out
	recovered map[string]float64 // seconds from restart to caught up
}

func (d *drillRun) event(format string, args ...any) {
	e := experiment.Event{At: time.Now(), What: fmt.Sprintf(format, args...)}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, e)
	fmt.Fprintf(d.out, "%s  %s\n", e.At.Format("15:04:05.000"), e.What)
}

// runDrill runs drill d on a fresh topology of three regions.
func runDrill(ctx context.Context, self string, d *Drill, scale float64, out, logw io.Writer) (*DrillResult, error) {
	dir, err := os.MkdirTemp("", "globaltables-drill")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	names := []string{"us-east-1", "eu-west-1", "ap-southeast-1"}
	t, err := tempTopology(dir, names, "global_tables = true")
	if err != nil {
		return nil, err
	}
	run := &drillRun{t: t, self: self, sup: supervise.New(logw), out: out, restart: map[string]time.Time{},
		recovered: map[string]float64{}, scale: scale}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		run.sup.Stop(sctx)
	}()
	if err := startTopology(ctx, run.sup, self, t); err != nil {
		return nil, err
	}
	run.cfg = experiment.Config{Endpoints: map[string]string{}, WriteRegions: names, Table: "drill", Keys: d.Load.Keys,
		Rate: d.Load.Rate, ReadRatio: d.Load.ReadRatio, Duration: time.Hour, Seed: 1, Failover: true}
	for _, r := range t.Regions {
		run.cfg.Endpoints[r.Name] = "http://" + r.Listen
	}
	if err := ensureGlobalTable(ctx, t, "drill"); err != nil {
		return nil, err
	}
	run.res = DrillResult{Drill: d.Name, AtRisk: map[string]uint64{}, Recover: map[string]float64{}}
	run.sampler = experiment.NewSampler(run.cfg.Endpoints)
	sctx, stopSampler := context.WithCancel(ctx)
	sdone := make(chan struct{})
	go func() {
		defer close(sdone)
		run.sampler.Run(sctx)
	}()
	defer func() {
		stopSampler()
		<-sdone
	}()
	run.phases = []phase{{Name: "start", Start: time.Now()}}
	var rec *experiment.Recording
	judged := false
	for _, s := range d.Steps {
		if err := run.step(ctx, s); err != nil {
			return nil, fmt.Errorf("step %s: %w", s.Kind, err)
		}
		if s.Kind == "stop_load" {
			rec = run.stopLoad()
		}
		if s.Kind == "assert" {
			if rec == nil {
				rec = run.stopLoad()
			}
			within := time.Minute
			if s.ConvergedWithin != "" {
				within, _ = time.ParseDuration(s.ConvergedWithin)
			}
			run.judge(ctx, rec, within)
			judged = true
		}
	}
	if !judged {
		if rec == nil {
			rec = run.stopLoad()
		}
		run.judge(ctx, rec, time.Minute)
	}
	return &run.res, nil
}

func (d *drillRun) startRegion(name string) error {
	return startRegionOf(d.sup, d.self, d.t, name)
}

// step carries out one step.
func (d *drillRun) step(ctx context.Context, s Step) error {
	switch s.Kind {
	case "start_load":
		lctx, cancel := context.WithCancel(ctx)
		d.loadCtx = cancel
		d.loadRes = make(chan *experiment.Recording, 1)
		go func() {
			rec, _ := experiment.Run(lctx, d.cfg)
			d.loadRes <- rec
		}()
		d.event("load started: %d keys, %.0f ops/s in each region, reads %.0f%%", d.cfg.Keys, d.cfg.Rate, 100*d.cfg.ReadRatio)
	case "stop_load":
		// handled by the caller, which needs the recording
	case "wait":
		dur, _ := time.ParseDuration(s.For)
		dur = time.Duration(float64(dur) * d.scale)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(dur):
		}
	case "kill":
		var st region.Status
		if err := getJSON(ctx, d.cfg.Endpoints[s.Region]+region.StatusPath, &st); err == nil && st.Publisher != nil {
			d.res.AtRisk[s.Region] = st.Publisher.Backlog
		}
		if err := d.sup.Kill(s.Region); err != nil {
			return err
		}
		d.event("killed %s with SIGKILL (%d acknowledged changes not yet published)", s.Region, d.res.AtRisk[s.Region])
	case "stop":
		if err := d.sup.Signal(s.Region, os.Interrupt); err != nil {
			return err
		}
		d.event("stopping %s", s.Region)
	case "restart":
		if err := d.startRegion(s.Region); err != nil {
			return err
		}
		if err := waitHealthy(ctx, d.sup, d.t); err != nil {
			return err
		}
		d.restart[s.Region] = time.Now()
		d.event("restarted %s", s.Region)
		d.watchRecovery(ctx, s.Region, d.restart[s.Region])
	case "isolate":
		if err := cutLinks(ctx, io.Discard, d.t, isolateCuts(d.t, s.Region)); err != nil {
			return err
		}
		d.event("isolated %s", s.Region)
	case "cut":
		if err := cutLinks(ctx, io.Discard, d.t, [][2]string{{s.From, s.To}}); err != nil {
			return err
		}
		d.event("cut %s → %s", s.From, s.To)
	case "heal":
		if err := healLinks(ctx, io.Discard, d.t); err != nil {
			return err
		}
		d.event("healed every link")
	case "link":
		sh, _ := (topology.Link{From: s.From, To: s.To, Latency: s.Latency, Jitter: s.Jitter}).Shape()
		if err := putShape(ctx, d.t, s.From, s.To, sh); err != nil {
			return err
		}
		d.event("link %s → %s: %s", s.From, s.To, sh)
	case "clock":
		if err := setClock(ctx, d.t, s.Region, s.Offset, s.Drift); err != nil {
			return err
		}
		d.event("clock of %s: offset %s, drift %s", s.Region, orDefault(s.Offset, "0"), orDefault(s.Drift, "0ppm"))
	case "phase":
		now := time.Now()
		d.phases[len(d.phases)-1].End = now
		d.phases = append(d.phases, phase{Name: s.Name, Start: now})
		d.event("phase %s", s.Name)
	}
	return nil
}

// watchRecovery measures how long a restarted region takes to catch up:
// until nothing is pending on its inbound links and its own backlog is
// published.
func (d *drillRun) watchRecovery(ctx context.Context, name string, since time.Time) {
	d.recoverWG.Add(1)
	go func() {
		defer d.recoverWG.Done()
		for time.Since(since) < 5*time.Minute && ctx.Err() == nil {
			var st region.Status
			if err := getJSON(ctx, d.cfg.Endpoints[name]+region.StatusPath, &st); err == nil && len(st.Links) > 0 {
				caught := st.Publisher != nil && st.Publisher.Backlog == 0
				for _, l := range st.Links {
					caught = caught && l.Connected && l.Pending == 0
				}
				if caught {
					d.mu.Lock()
					d.recovered[name] = time.Since(since).Seconds()
					d.mu.Unlock()
					d.event("%s caught up %s after its restart", name, time.Since(since).Round(time.Millisecond))
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func isolateCuts(t *topology.Topology, r string) [][2]string {
	var cuts [][2]string
	for _, other := range t.Names() {
		if other != r {
			cuts = append(cuts, [2]string{r, other}, [2]string{other, r})
		}
	}
	return cuts
}

// setClock skews a region's clock through its endpoint.
func setClock(ctx context.Context, t *topology.Topology, name, offset, drift string) error {
	r, err := t.Region(name)
	if err != nil {
		return err
	}
	return region.PutJSON(ctx, "http://"+r.Listen+region.ClockPath, region.ClockSetting{Offset: offset, Drift: drift}, nil)
}

// stopLoad stops the workload and returns what it recorded.
func (d *drillRun) stopLoad() *experiment.Recording {
	if d.loadCtx == nil {
		return &experiment.Recording{Config: d.cfg, Began: time.Now(), Ended: time.Now()}
	}
	d.loadCtx()
	rec := <-d.loadRes
	d.loadCtx = nil
	d.event("load stopped: %d writes, %d reads", len(rec.Writes), len(rec.Reads))
	return rec
}

// judge waits for convergence and decides the verdict: every acknowledged
// write is present in every region or overwritten by a newer write, and
// every region holds the same content.
func (d *drillRun) judge(ctx context.Context, rec *experiment.Recording, within time.Duration) {
	after, ok, digests := experiment.Convergence(ctx, d.cfg.Endpoints, d.cfg.Table, within)
	d.event("converged: %v after %s", ok, after.Round(time.Millisecond))
	d.recoverWG.Wait()
	d.mu.Lock()
	for r, s := range d.recovered {
		d.res.Recover[r] = s
	}
	d.mu.Unlock()
	// Final content, read from the first region once converged.
	final := map[string]string{}
	client := bench.Client(d.cfg.Endpoints[d.t.Regions[0].Name], 2)
	p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: aws.String(d.cfg.Table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, it := range page.Items {
			k, _ := it["pk"].(*types.AttributeValueMemberS)
			w, _ := it["w"].(*types.AttributeValueMemberS)
			if k != nil && w != nil {
				final[k.Value] = w.Value
			}
		}
	}
	byKey := map[string][]*experiment.Write{}
	for _, w := range rec.Writes {
		if w.Err == "" {
			byKey[w.Key] = append(byKey[w.Key], w)
		}
	}
	for key, ws := range byKey {
		fw := rec.WriteByID(final[key])
		if fw == nil || fw.Err != "" {
			// The final value is a write whose fate the client never
			// learned (it failed in a region that died): nothing to
			// compare versions with.
			d.res.Unknown++
			continue
		}
		for _, w := range ws {
			if fw.Version.Less(w.Version) {
				d.res.Lost = append(d.res.Lost, fmt.Sprintf("%s=%s (%s) lost to %s", key, w.ID, w.Token, fw.ID))
			}
		}
		if _, ok := final[key]; !ok {
			d.res.Lost = append(d.res.Lost, fmt.Sprintf("%s: no region holds it", key))
		}
	}
	sort.Strings(d.res.Lost)
	var records []region.ConflictRecord
	for _, ep := range d.cfg.Endpoints {
		var cs region.Conflicts
		if err := getJSON(ctx, ep+region.ConflictsPath+"?limit=10000&table="+d.cfg.Table, &cs); err == nil {
			records = append(records, cs.Records...)
		}
	}
	d.res.Result = experiment.Analyse(rec, records, d.sampler.Series(), after, ok, digests)
	d.mu.Lock()
	d.res.Result.Events = append([]experiment.Event(nil), d.events...)
	d.mu.Unlock()
	d.phases[len(d.phases)-1].End = time.Now()
	d.res.Phases = d.phases
	for i := range d.res.Phases {
		ph := &d.res.Phases[i]
		for _, w := range rec.Writes {
			if !w.Start.Before(ph.Start) && w.Start.Before(ph.End) {
				ph.Writes++
			}
		}
		for _, r := range rec.Reads {
			if !r.Start.Before(ph.Start) && r.Start.Before(ph.End) {
				ph.Reads++
				if r.Missed != "" {
					ph.StaleReads++
				}
			}
		}
		for _, c := range d.res.Result.Conflicted {
			if !c.DetectedAt.Before(ph.Start) && c.DetectedAt.Before(ph.End) {
				ph.Conflicts++
			}
		}
	}
	d.res.Passed = ok && len(d.res.Lost) == 0
	switch {
	case d.res.Passed:
		d.res.Verdict = fmt.Sprintf("PASS: no acknowledged write lost (%d keys checked, %d ended on a write of unknown fate); all regions converged", len(byKey), d.res.Unknown)
	case !ok:
		d.res.Verdict = "FAIL: the regions did not converge"
	default:
		d.res.Verdict = fmt.Sprintf("FAIL: %d acknowledged writes lost, e.g. %s", len(d.res.Lost), d.res.Lost[0])
	}
}

func newDrillCmd() *cobra.Command {
	var out, html string
	var scale float64
	cmd := &cobra.Command{
		Use:   "drill SCENARIO|FILE",
		Short: "Run a failover drill: a scripted fault under load, ending with a verdict and a report",
		Long: `Start a fresh three-region topology, run a workload through it, carry out
the drill's timeline of steps (kill and restart a region, partition, heal,
shape links, skew clocks) and judge: the drill passes only if no
acknowledged write was lost (every one is present everywhere, or
overwritten by a newer write) and all regions converged.

Built-in scenarios, from configs/drills: region-outage, partition,
slow-link, clock-skew. Any drill file of the same form works.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if _, err := os.Stat(path); err != nil {
				path = filepath.Join("configs", "drills", args[0]+".hcl")
				if _, err := os.Stat(path); err != nil {
					return usagef("no drill %q: give a file, or one of region-outage, partition, slow-link, clock-skew (run from the repository root)", args[0])
				}
			}
			d, err := LoadDrill(path)
			if err != nil {
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "drill %s: %s\n", d.Name, d.Description)
			if scale <= 0 || scale > 100 {
				return usagef("--scale must be above 0 and at most 100")
			}
			res, err := runDrill(cmd.Context(), self, d, scale, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			res.Result.Summary(w)
			for r, n := range res.AtRisk {
				fmt.Fprintf(w, "recovery point: %d acknowledged changes of %s were not yet published when it died; every one is accounted for above\n", n, r)
			}
			for r, s := range res.Recover {
				fmt.Fprintf(w, "recovery time: %s caught up %.1fs after its restart\n", r, s)
			}
			for _, ph := range res.Phases {
				fmt.Fprintf(w, "phase %-12s %5d writes, %4d conflicts, %4d of %4d reads stale\n", ph.Name, ph.Writes, ph.Conflicts, ph.StaleReads, ph.Reads)
			}
			fmt.Fprintln(w, res.Verdict)
			if out != "" {
				b, _ := json.MarshalIndent(res, "", "  ")
				if err := os.WriteFile(out, b, 0o644); err != nil {
					return err
				}
			}
			if html != "" {
				f, err := os.Create(html)
				if err != nil {
					return err
				}
				if err := res.Result.WriteHTML(f, "drill", d.Name, res.Verdict, res.Passed); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
			}
			if !res.Passed {
				return fmt.Errorf("drill %s failed", d.Name)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the results as JSON to this file")
	cmd.Flags().StringVar(&html, "html", "", "write a self-contained HTML report to this file")
	cmd.Flags().Float64Var(&scale, "scale", 1, "multiply every wait by this (0.25 runs a drill four times faster)")
	return cmd
}
