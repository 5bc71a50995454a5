package main

import (
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/cmd/globaltables/bench"
	"github.com/globaltables/globaltables/cmd/globaltables/experiment"
)

// CPU per replicated write is the regions' CPU over the window divided by
// the acknowledged origin writes; each region's share is a percentage of
// one core; the client is apart.
func TestCostOf(t *testing.T) {
	t0 := time.Unix(1000, 0)
	names := []string{"a", "b", "c"}
	start := cpuSample{At: t0, Regions: map[string]time.Duration{"a": 1 * time.Second, "b": 2 * time.Second, "c": 0}, Client: 5 * time.Second, ClientKnown: true}
	end := cpuSample{At: t0.Add(10 * time.Second), Regions: map[string]time.Duration{"a": 5 * time.Second, "b": 6 * time.Second, "c": 4 * time.Second}, Client: 8 * time.Second, ClientKnown: true}
	mem := map[string]bench.Memory{"a": {RSS: 100, Peak: 200}, "b": {RSS: 1, Peak: 1}, "c": {RSS: 2, Peak: 3}}
	c := costOf(names, start, end, mem, 10000)
	if c.Window != 10*time.Second || c.Writes != 10000 || c.Applies != 20000 {
		t.Errorf("window %s, writes %d, applies %d; want 10s, 10000, 20000", c.Window, c.Writes, c.Applies)
	}
	if c.RegionsCPU == nil || *c.RegionsCPU != 12*time.Second {
		t.Fatalf("regions' CPU %v, want 12s", c.RegionsCPU)
	}
	if c.CPUPerWrite == nil || *c.CPUPerWrite != 1200*time.Microsecond {
		t.Errorf("CPU per write %v, want 1.2ms", c.CPUPerWrite)
	}
	if c.RegionsCorePercent == nil || *c.RegionsCorePercent != 120 {
		t.Errorf("regions %% of a core %v, want 120", c.RegionsCorePercent)
	}
	if r := c.Regions[0]; r.Region != "a" || *r.CPU != 4*time.Second || *r.CorePercent != 40 || *r.RSS != 100 || *r.Peak != 200 {
		t.Errorf("region a: %+v", r)
	}
	if c.ClientCPU == nil || *c.ClientCPU != 3*time.Second || *c.ClientCPUPerWrite != 300*time.Microsecond {
		t.Errorf("client %v, per write %v; want 3s, 300µs", c.ClientCPU, c.ClientCPUPerWrite)
	}
}

// A region whose CPU could not be read makes the totals unknown, not a
// smaller number; no writes leave the per-write figures unknown.
func TestCostOf_UnknownStaysUnknown(t *testing.T) {
	t0 := time.Unix(1000, 0)
	start := cpuSample{At: t0, Regions: map[string]time.Duration{"a": 0, "b": 0}}
	end := cpuSample{At: t0.Add(time.Second), Regions: map[string]time.Duration{"a": time.Second}}
	c := costOf([]string{"a", "b"}, start, end, nil, 100)
	if c.RegionsCPU != nil || c.CPUPerWrite != nil || c.RegionsCorePercent != nil {
		t.Errorf("a region unread, yet totals %v %v %v", c.RegionsCPU, c.CPUPerWrite, c.RegionsCorePercent)
	}
	if c.Regions[0].CPU == nil || c.Regions[1].CPU != nil || c.Regions[0].RSS != nil {
		t.Errorf("per region: %+v", c.Regions)
	}
	if c.ClientCPU != nil {
		t.Errorf("client CPU unread, yet %v", c.ClientCPU)
	}
	end.Regions["b"] = time.Second
	c = costOf([]string{"a", "b"}, start, end, nil, 0)
	if c.RegionsCPU == nil || c.CPUPerWrite != nil {
		t.Errorf("no writes: total %v, per write %v; want 2s and unknown", c.RegionsCPU, c.CPUPerWrite)
	}
	var b strings.Builder
	printCost(&b, &c)
	if !strings.Contains(b.String(), "CPU per replicated write: ?") {
		t.Errorf("unknown per-write figure printed as:\n%s", b.String())
	}
}

// The outside lag is summarised per directed link, every link listed even
// without probes (unknown figures), and over all links.
func TestSummarizeLag(t *testing.T) {
	t0 := time.Unix(1000, 0)
	probe := func(ms int) experiment.Probe {
		return experiment.Probe{Acked: t0, Seen: t0.Add(time.Duration(ms) * time.Millisecond)}
	}
	var ab []experiment.Probe
	for i := 1; i <= 100; i++ {
		ab = append(ab, probe(i))
	}
	probes := map[[2]string][]experiment.Probe{{"a", "b"}: ab, {"b", "a"}: {probe(500)}}
	out := summarizeLag([]string{"b", "a"}, probes, map[[2]string]int{{"b", "a"}: 2},
		[]time.Duration{time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}, 101, 300, 4)
	if len(out.Links) != 2 || out.Links[0].Source != "a" || out.Links[1].Source != "b" {
		t.Fatalf("links %+v, want a→b then b→a", out.Links)
	}
	ab1 := out.Links[0]
	if ab1.Probes != 100 || *ab1.P50Ms != 50 || *ab1.P99Ms != 99 || *ab1.MaxMs != 100 {
		t.Errorf("a→b: %d probes p50 %v p99 %v max %v; want 100, 50, 99, 100", ab1.Probes, *ab1.P50Ms, *ab1.P99Ms, *ab1.MaxMs)
	}
	if ba := out.Links[1]; ba.Probes != 1 || *ba.MaxMs != 500 || ba.Unfinished != 2 {
		t.Errorf("b→a: %+v", ba)
	}
	if out.All.Probes != 101 || *out.All.MaxMs != 500 || *out.All.P50Ms != 51 {
		t.Errorf("all: %d probes, p50 %v, max %v; want 101, 51, 500", out.All.Probes, *out.All.P50Ms, *out.All.MaxMs)
	}
	if out.ReadRTTP50Ms == nil || *out.ReadRTTP50Ms != 2 || out.Writes != 101 || out.Reads != 300 || out.Skipped != 4 {
		t.Errorf("rtt %v, counts %d %d %d", out.ReadRTTP50Ms, out.Writes, out.Reads, out.Skipped)
	}
	empty := summarizeLag([]string{"a", "b"}, nil, nil, nil, 0, 0, 0)
	if len(empty.Links) != 2 || empty.Links[0].P50Ms != nil || empty.All.P99Ms != nil || empty.ReadRTTP50Ms != nil {
		t.Errorf("without probes, figures must be unknown: %+v", empty)
	}
}

func TestBenchRegionNames(t *testing.T) {
	names := benchRegionNames(9)
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("%s twice in %v", n, names)
		}
		seen[n] = true
	}
	if len(names) != 9 || names[0] != "us-east-1" || names[6] != "sa-east-1" || names[8] != "region-9" {
		t.Errorf("got %v", names)
	}
}

// --saturate raises the rate by half until a step falls behind, and marks
// the last step that kept up.
func TestSaturateSteps(t *testing.T) {
	var rates []int
	var steps []*replStep
	err := saturateSteps(1000, false, func(rate int, _ bool) (*replStep, error) {
		rates = append(rates, rate)
		st := &replStep{Rate: rate, KeptUp: rate < 3000}
		steps = append(steps, st)
		return st, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rates) != 4 || rates[1] != 1500 || rates[2] != 2250 || rates[3] != 3375 {
		t.Fatalf("rates %v, want 1000 1500 2250 3375", rates)
	}
	for i, st := range steps {
		if st.Saturation != (i == 2) {
			t.Errorf("step %d (%d/s): saturation %v", i, st.Rate, st.Saturation)
		}
	}
}

// The idle CPU measured before the load is subtracted at its rate over
// the load's window; an unread region leaves the figure unknown.
func TestReplCost_AddIdle(t *testing.T) {
	t0 := time.Unix(1000, 0)
	names := []string{"a", "b"}
	start := cpuSample{At: t0, Regions: map[string]time.Duration{"a": 0, "b": 0}}
	end := cpuSample{At: t0.Add(10 * time.Second), Regions: map[string]time.Duration{"a": 3 * time.Second, "b": 3 * time.Second}}
	c := costOf(names, start, end, nil, 1000) // 6 s for 1000 writes: 6 ms each
	idle0 := cpuSample{At: t0.Add(-4 * time.Second), Regions: map[string]time.Duration{"a": 0, "b": 0}}
	idle1 := cpuSample{At: t0.Add(-2 * time.Second), Regions: map[string]time.Duration{"a": 100 * time.Millisecond, "b": 100 * time.Millisecond}}
	c.addIdle(names, idle0, idle1) // 5 % of a core each: 1 s of the 10 s window
	if c.IdleCorePercent == nil || *c.IdleCorePercent != 10 || *c.Regions[1].IdlePercent != 5 {
		t.Fatalf("idle %v, region b %v; want 10 %% and 5 %%", c.IdleCorePercent, c.Regions[1].IdlePercent)
	}
	if c.CPUPerWriteAboveIdle == nil || *c.CPUPerWriteAboveIdle != 5*time.Millisecond {
		t.Errorf("above idle %v, want 5ms", c.CPUPerWriteAboveIdle)
	}
	delete(idle1.Regions, "b")
	c = costOf(names, start, end, nil, 1000)
	c.addIdle(names, idle0, idle1)
	if c.IdleCorePercent != nil || c.CPUPerWriteAboveIdle != nil || c.Regions[0].IdlePercent == nil {
		t.Errorf("region b's idle unread: total %v, above idle %v, a %v", c.IdleCorePercent, c.CPUPerWriteAboveIdle, c.Regions[0].IdlePercent)
	}
}

// The saturation summary names the highest step kept up and the first
// that was not, with unknown figures as "?".
func TestPrintSaturation(t *testing.T) {
	d := 900 * time.Microsecond
	steps := []*replStep{
		{Rate: 1000, Regions: 3, Achieved: 1000, KeptUp: true, Saturation: true, Cost: replCost{CPUPerWrite: &d}},
		{Rate: 1500, Regions: 3, Achieved: 1200},
	}
	var b strings.Builder
	printSaturation(&b, steps)
	for _, want := range []string{"kept up with 1000 writes/s (achieved 1000); CPU per replicated write there 900µs (? above idle)",
		"at 1500 writes/s the 3 regions took 1200 writes/s; CPU per replicated write ? (? above idle)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}
