package drill

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
	"github.com/globaltables/globaltables/region"
	"github.com/globaltables/globaltables/replicator/shaper"
)

// Lab is the running topology a drill acts on. The globaltables command
// implements it with region processes it supervises; a drill needs to own
// the processes it kills.
type Lab interface {
	// Regions names the regions, in the topology's order.
	Regions() []string
	// Endpoint is a region's API base URL ("http://host:port").
	Endpoint(region string) string
	// Kill ends a region's process at once (SIGKILL).
	Kill(region string) error
	// Stop asks a region's process to stop cleanly.
	Stop(region string) error
	// Restart starts a region again and waits until it answers.
	Restart(ctx context.Context, region string) error
	// Cut cuts each directed link {from, to}.
	Cut(ctx context.Context, links [][2]string) error
	// Heal puts every link back to its configured shape.
	Heal(ctx context.Context) error
	// Shape shapes the link carrying from's changes to to.
	Shape(ctx context.Context, from, to string, sh shaper.Shape) error
	// SetClock skews a region's clock.
	SetClock(ctx context.Context, region, offset, drift string) error
}

// Options are a run's settings beyond the drill file.
type Options struct {
	Table string    // the global table the workload writes; it must exist in every region
	Scale float64   // multiplies every wait (0.25 runs four times faster); 0 means 1
	Out   io.Writer // the timeline, a line per event; nil discards it
	// Live draws a progress line under the timeline on Out; set it only
	// when Out is a terminal.
	Live bool
}

// Phase is a named stretch of a drill, for per-phase results.
type Phase = experiment.Phase

// Result is a drill's outcome.
type Result struct {
	Drill   string             `json:"drill"`
	Passed  bool               `json:"passed"`
	Verdict string             `json:"verdict"`
	Lost    []string           `json:"lost_writes,omitempty"`
	Unknown int                `json:"keys_with_unknown_final_writes"`
	AtRisk  map[string]uint64  `json:"at_risk_when_killed,omitempty"`
	Recover map[string]float64 `json:"recovery_seconds,omitempty"`
	Phases  []Phase            `json:"phases,omitempty"`
	Regions []string           `json:"regions"`
	// Interrupted is set when the drill was cancelled (Ctrl-C) before it
	// could judge; its Verdict says so and Passed is false.
	Interrupted bool               `json:"interrupted,omitempty"`
	Tables      []string           `json:"table_problems,omitempty"` // what is wrong with the drill's own tables
	Result      *experiment.Result `json:"result"`
}

// run is the state of a running drill.
type run struct {
	lab     Lab
	out     io.Writer
	cfg     experiment.Config
	events  []experiment.Event
	phases  []Phase
	loadCtx context.CancelFunc
	loadRes chan struct{}
	rec     *experiment.Recording
	monitor *experiment.Monitor
	res     Result
	restart map[string]time.Time
	scale   float64

	fixtures map[string]*fixture // tables of the drill's own, by name

	recoverWG sync.WaitGroup
	mu        sync.Mutex         // guards recovered, events and out
	recovered map[string]float64 // seconds from restart to caught up
}

// Run carries out drill d on lab and judges it. It returns an error only
// when the drill could not be carried out; a failed verdict is a Result
// with Passed false.
func Run(ctx context.Context, lab Lab, d *Drill, opts Options) (*Result, error) {
	if opts.Scale <= 0 {
		opts.Scale = 1
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	names := lab.Regions()
	r := &run{lab: lab, out: opts.Out, restart: map[string]time.Time{}, recovered: map[string]float64{}, scale: opts.Scale,
		fixtures: map[string]*fixture{}}
	r.cfg = experiment.Config{Endpoints: map[string]string{}, WriteRegions: names, Table: opts.Table, Keys: d.Load.Keys,
		Rate: d.Load.Rate, ReadRatio: d.Load.ReadRatio, Duration: time.Hour, Seed: 1, Failover: true}
	for _, n := range names {
		r.cfg.Endpoints[n] = lab.Endpoint(n)
	}
	r.res = Result{Drill: d.Name, Regions: names, AtRisk: map[string]uint64{}, Recover: map[string]float64{}}
	r.rec = experiment.NewRecording(r.cfg)
	r.monitor = experiment.NewMonitor(r.cfg)
	// The monitor runs until the drill is judged, even after Ctrl-C, so
	// that an interrupted drill still reports what it measured.
	mctx, stopMonitor := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.monitor.Run(mctx, r.rec)
	}()
	pctx, stopProgress := context.WithCancel(ctx)
	if opts.Live {
		p := experiment.NewProgress(r.out)
		r.out = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Run(pctx, r.rec, r.monitor)
		}()
	}
	defer func() {
		stopProgress()
		stopMonitor()
		wg.Wait()
	}()
	// Whatever ends the drill, the workload's goroutine is stopped and
	// waited for.
	defer r.stopLoad()
	r.phases = []Phase{{Name: "start", Start: time.Now()}}
	var rec *experiment.Recording
	judged := false
	for i, s := range d.Steps {
		if err := r.step(ctx, s); err != nil {
			if ctx.Err() != nil {
				stopProgress()
				r.interrupted(ctx, i, s)
				return &r.res, nil
			}
			return nil, fmt.Errorf("step %s: %w", s.Kind, err)
		}
		if s.Kind == "stop_load" {
			rec = r.stopLoad()
		}
		if s.Kind == "assert" {
			if rec == nil {
				rec = r.stopLoad()
			}
			within := time.Minute
			if s.ConvergedWithin != "" {
				within, _ = time.ParseDuration(s.ConvergedWithin)
			}
			stopProgress()
			r.judge(ctx, rec, within)
			judged = true
		}
	}
	if !judged {
		if rec == nil {
			rec = r.stopLoad()
		}
		stopProgress()
		r.judge(ctx, rec, time.Minute)
	}
	if ctx.Err() != nil && !r.res.Interrupted {
		r.interrupted(ctx, len(d.Steps)-1, d.Steps[len(d.Steps)-1])
	}
	return &r.res, nil
}

func (r *run) event(format string, args ...any) {
	e := experiment.Event{At: time.Now(), What: fmt.Sprintf(format, args...)}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	fmt.Fprintf(r.out, "%s  %s\n", e.At.Format("15:04:05.000"), e.What)
}

// step carries out one step.
func (r *run) step(ctx context.Context, s Step) error {
	switch s.Kind {
	case "start_load":
		if r.loadRes != nil {
			return fmt.Errorf("the load was already started: a drill runs it once")
		}
		lctx, cancel := context.WithCancel(ctx)
		r.loadCtx = cancel
		r.loadRes = make(chan struct{})
		go func() {
			defer close(r.loadRes)
			r.rec.Run(lctx)
		}()
		r.event("load started: %d keys, %.0f ops/s in each region, reads %.0f%%", r.cfg.Keys, r.cfg.Rate, 100*r.cfg.ReadRatio)
	case "stop_load":
		// handled by Run, which needs the recording
	case "wait":
		dur, _ := time.ParseDuration(s.For)
		dur = time.Duration(float64(dur) * r.scale)
		t := time.NewTimer(dur)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	case "kill":
		var st region.Status
		if err := region.GetJSON(ctx, r.cfg.Endpoints[s.Region]+region.StatusPath, &st); err == nil && st.Publisher != nil {
			r.res.AtRisk[s.Region] = st.Publisher.Backlog
		}
		if err := r.lab.Kill(s.Region); err != nil {
			return err
		}
		r.event("killed %s with SIGKILL (%d acknowledged changes not yet published)", s.Region, r.res.AtRisk[s.Region])
	case "stop":
		if err := r.lab.Stop(s.Region); err != nil {
			return err
		}
		r.event("stopping %s", s.Region)
	case "restart":
		if err := r.lab.Restart(ctx, s.Region); err != nil {
			return err
		}
		r.restart[s.Region] = time.Now()
		r.event("restarted %s", s.Region)
		r.watchRecovery(ctx, s.Region, r.restart[s.Region])
	case "isolate":
		if err := r.lab.Cut(ctx, r.isolateCuts(s.Region)); err != nil {
			return err
		}
		r.event("isolated %s", s.Region)
	case "cut":
		if err := r.lab.Cut(ctx, [][2]string{{s.From, s.To}}); err != nil {
			return err
		}
		r.event("cut %s → %s", s.From, s.To)
	case "heal":
		if err := r.lab.Heal(ctx); err != nil {
			return err
		}
		r.event("healed every link")
	case "link":
		sh, _ := s.link().Shape()
		if err := r.lab.Shape(ctx, s.From, s.To, sh); err != nil {
			return err
		}
		r.event("link %s → %s: %s", s.From, s.To, sh)
	case "clock":
		if err := r.lab.SetClock(ctx, s.Region, s.Offset, s.Drift); err != nil {
			return err
		}
		r.event("clock of %s: offset %s, drift %s", s.Region, orDefault(s.Offset, "0"), orDefault(s.Drift, "0ppm"))
	case "table":
		return r.createFixture(ctx, s)
	case "add_replica":
		return r.addReplica(ctx, s)
	case "add_index":
		return r.addIndex(ctx, s)
	case "delete_items":
		return r.deleteItems(ctx, s)
	case "await":
		return r.await(ctx, s)
	case "phase":
		now := time.Now()
		r.phases[len(r.phases)-1].End = now
		r.phases = append(r.phases, Phase{Name: s.Name, Start: now})
		r.event("phase %s", s.Name)
	}
	return nil
}

// watchRecovery measures how long a restarted region takes to catch up:
// until nothing is pending on its inbound links and its own backlog is
// published.
func (r *run) watchRecovery(ctx context.Context, name string, since time.Time) {
	r.recoverWG.Add(1)
	go func() {
		defer r.recoverWG.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for time.Since(since) < 5*time.Minute {
			var st region.Status
			if err := region.GetJSON(ctx, r.cfg.Endpoints[name]+region.StatusPath, &st); err == nil && len(st.Links) > 0 {
				caught := st.Publisher != nil && st.Publisher.Backlog == 0
				for _, l := range st.Links {
					caught = caught && l.Connected && l.Pending != nil && *l.Pending == 0
				}
				if caught {
					r.mu.Lock()
					r.recovered[name] = time.Since(since).Seconds()
					r.mu.Unlock()
					r.event("%s caught up %s after its restart", name, time.Since(since).Round(time.Millisecond))
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

func (r *run) isolateCuts(name string) [][2]string {
	var cuts [][2]string
	for _, other := range r.lab.Regions() {
		if other != name {
			cuts = append(cuts, [2]string{name, other}, [2]string{other, name})
		}
	}
	return cuts
}

// stopLoad stops the workload, if it runs, and returns what it recorded.
// The recording counts as interrupted only when the drill itself was
// cancelled, not when a stop_load step ended it.
func (r *run) stopLoad() *experiment.Recording {
	if r.loadCtx == nil {
		if r.loadRes == nil { // never started
			now := time.Now()
			r.rec.Began, r.rec.Ended = now, now
		}
		return r.rec
	}
	r.loadCtx()
	<-r.loadRes
	r.loadCtx = nil
	r.rec.Interrupted = false // a stop, not an interruption: see interrupted
	r.event("load stopped: %s", r.rec.Tally(nil).Text())
	return r.rec
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
