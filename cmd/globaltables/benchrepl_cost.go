package main

import (
	"os"
	"time"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/cmd/globaltables/supervise"
)

// What one replicated write is, for `bench replication`: one write
// acknowledged by its origin region (a PutItem, or one item of a
// BatchWriteItem, of the load or of the lag probe), which the origin
// commits once and each of the N−1 other regions applies once. Its CPU
// is all the region processes' CPU time (user plus system, each process's
// embedded NATS server included) from the start of the load until every
// link has drained, divided by the acknowledged origin writes. The drain
// is counted because at saturation the applies trail the load: the load
// phase alone would credit the writes without their applies. The bench
// client's own CPU (the SDK, the prober) is reported apart: it is not the
// servers' cost.

// cpuSample is the CPU time each region process (by region name) and the
// bench client had used at one moment; a region missing from Regions could
// not be read (its process is gone): its figures are unknown.
type cpuSample struct {
	At      time.Time
	Regions map[string]time.Duration
	Client  time.Duration
	// ClientKnown is false when the client's own CPU could not be read.
	ClientKnown bool
}

// sampleCPU reads the CPU time of the named regions' processes under sup
// and of this process.
func sampleCPU(sup *supervise.Supervisor, names []string) cpuSample {
	s := cpuSample{At: time.Now(), Regions: map[string]time.Duration{}}
	for _, n := range names {
		pid := sup.PID(n)
		if pid == 0 {
			continue
		}
		if d, err := bench.ProcessCPU(pid); err == nil {
			s.Regions[n] = d
		}
	}
	if d, err := bench.ProcessCPU(os.Getpid()); err == nil {
		s.Client, s.ClientKnown = d, true
	}
	return s
}

// sampleMemory reads the resident and peak resident size of the named
// regions' processes; a region that could not be read is left out.
func sampleMemory(sup *supervise.Supervisor, names []string) map[string]bench.Memory {
	out := map[string]bench.Memory{}
	for _, n := range names {
		if pid := sup.PID(n); pid != 0 {
			if m, err := bench.ProcessMemory(pid); err == nil {
				out[n] = m
			}
		}
	}
	return out
}

// regionCost is one region process's cost over a step. Nil figures are
// unknown (the process could not be read).
type regionCost struct {
	Region string         `json:"region"`
	CPU    *time.Duration `json:"cpu_ns"`
	// CorePercent is CPU as a percentage of one core over the window.
	CorePercent *float64 `json:"cpu_percent_of_core"`
	// RSS is the resident size at the end of the load, Peak the highest
	// over the process's life (it is fresh for each step).
	RSS  *uint64 `json:"rss_bytes"`
	Peak *uint64 `json:"peak_rss_bytes"`
	// IdlePercent is the region's CPU as a percentage of one core over
	// idleWindow, settled, before the load.
	IdlePercent *float64 `json:"idle_cpu_percent_of_core"`
}

// replCost is what a step's replicated writes cost.
type replCost struct {
	// Window is the span the CPU was measured over: the load's start until
	// every link drained.
	Window time.Duration `json:"window_ns"`
	// Writes are the acknowledged origin writes (load and probes);
	// Applies the remote applies they call for, Writes × (N−1).
	Writes  int64 `json:"origin_writes"`
	Applies int64 `json:"remote_applies"`
	// RegionsCPU is the sum of every region's CPU over Window, and
	// CPUPerWrite that divided by Writes; both nil when a region's CPU is
	// unknown or no write was acknowledged.
	RegionsCPU  *time.Duration `json:"regions_cpu_ns"`
	CPUPerWrite *time.Duration `json:"cpu_per_replicated_write_ns"`
	// RegionsCorePercent is RegionsCPU as a percentage of one core.
	RegionsCorePercent *float64     `json:"regions_cpu_percent_of_core"`
	Regions            []regionCost `json:"regions"`
	// ClientCPU is the bench process's own CPU over Window (load
	// generator, prober, status polling), and ClientCPUPerWrite that per
	// acknowledged write; nil if unknown.
	ClientCPU         *time.Duration `json:"client_cpu_ns"`
	ClientCPUPerWrite *time.Duration `json:"client_cpu_per_write_ns"`
	// IdleCorePercent is the regions' CPU together, as a percentage of one
	// core, while idle before the load; CPUPerWriteAboveIdle is
	// CPUPerWrite less that idle rate over Window: what the writes
	// themselves cost, which stays comparable when a loaded machine lets
	// the regions take fewer writes. Nil when unknown.
	IdleCorePercent      *float64       `json:"idle_cpu_percent_of_core"`
	CPUPerWriteAboveIdle *time.Duration `json:"cpu_per_replicated_write_above_idle_ns"`
}

// idleWindow is how long a step measures the regions' idle CPU: CPU time
// comes in 10 ms ticks, so 3 s resolves a third of a percent of a core.
const idleWindow = 3 * time.Second

// addIdle adds to c the regions' idle CPU, from samples taken before the
// load, and the CPU per write above it.
func (c *replCost) addIdle(names []string, start, end cpuSample) {
	window := end.At.Sub(start.At)
	var total time.Duration
	known := len(names) > 0
	for i, n := range names {
		a, okA := start.Regions[n]
		b, okB := end.Regions[n]
		if !okA || !okB || b < a || i >= len(c.Regions) {
			known = false
			continue
		}
		c.Regions[i].IdlePercent = percentOfCore(b-a, window)
		total += b - a
	}
	if !known || window <= 0 {
		return
	}
	c.IdleCorePercent = percentOfCore(total, window)
	if c.RegionsCPU == nil {
		return
	}
	idle := time.Duration(float64(total) * float64(c.Window) / float64(window))
	c.CPUPerWriteAboveIdle = perWrite(max(*c.RegionsCPU-idle, 0), c.Writes)
}

// costOf computes a step's cost from the CPU samples at the start and end
// of its window, the regions' memory at the end of the load, and the
// acknowledged origin writes, for the regions named (in order).
func costOf(names []string, start, end cpuSample, mem map[string]bench.Memory, writes int64) replCost {
	c := replCost{Window: end.At.Sub(start.At), Writes: writes}
	if n := int64(len(names)); n > 1 {
		c.Applies = writes * (n - 1)
	}
	var total time.Duration
	known := len(names) > 0
	for _, n := range names {
		rc := regionCost{Region: n}
		a, okA := start.Regions[n]
		b, okB := end.Regions[n]
		if okA && okB && b >= a {
			d := b - a
			rc.CPU = &d
			rc.CorePercent = percentOfCore(d, c.Window)
			total += d
		} else {
			known = false
		}
		if m, ok := mem[n]; ok {
			rss, peak := m.RSS, m.Peak
			rc.RSS, rc.Peak = &rss, &peak
		}
		c.Regions = append(c.Regions, rc)
	}
	if known {
		c.RegionsCPU = &total
		c.RegionsCorePercent = percentOfCore(total, c.Window)
		c.CPUPerWrite = perWrite(total, writes)
	}
	if start.ClientKnown && end.ClientKnown && end.Client >= start.Client {
		d := end.Client - start.Client
		c.ClientCPU = &d
		c.ClientCPUPerWrite = perWrite(d, writes)
	}
	return c
}

// percentOfCore is cpu as a percentage of one core over window; nil for an
// empty window.
func percentOfCore(cpu, window time.Duration) *float64 {
	if window <= 0 {
		return nil
	}
	v := 100 * float64(cpu) / float64(window)
	return &v
}

// perWrite is cpu divided by writes; nil without writes.
func perWrite(cpu time.Duration, writes int64) *time.Duration {
	if writes <= 0 {
		return nil
	}
	v := cpu / time.Duration(writes)
	return &v
}
