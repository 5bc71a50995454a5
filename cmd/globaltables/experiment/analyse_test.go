package experiment

import (
	"strings"
	"testing"
	"time"

	"github.com/globaltables/globaltables/conflict"
)

// TestAnalyse_MeasuresOnlyTheRunsOwnWindow feeds the analysis a link
// whose measures began before the run, during a partition (seconds-long
// latencies, a large backlog), and checks that the run reports only its
// own figures: the 2–12 ms of its own window.
func TestAnalyse_MeasuresOnlyTheRunsOwnWindow(t *testing.T) {
	began := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	rec := NewRecording(Config{Endpoints: map[string]string{"a": "", "b": ""}, Table: "t"})
	rec.Began, rec.Ended = began, began.Add(5*time.Second)
	l := LinkSeries{Source: "a", Dest: "b"}
	// Before the run: a partition's backlog arriving late.
	for i := 0; i < 20; i++ {
		acked := began.Add(-25*time.Second + time.Duration(i)*time.Second)
		l.Probes = append(l.Probes, Probe{Acked: acked, Seen: began.Add(-time.Second)})
		p := uint64(4000 - 200*i)
		l.Pending = append(l.Pending, PendingSample{At: acked, Pending: &p})
	}
	// The run: 2–12 ms, nothing in its third second, one unknown pending.
	for i := 0; i < 50; i++ {
		acked := began.Add(time.Duration(i) * 100 * time.Millisecond)
		if i >= 20 && i < 30 {
			continue
		}
		l.Probes = append(l.Probes, Probe{Acked: acked, Seen: acked.Add(time.Duration(2+i%11) * time.Millisecond)})
	}
	for i := 0; i < 5; i++ {
		p := uint64(i)
		ps := PendingSample{At: began.Add(time.Duration(i) * time.Second), Pending: &p}
		if i == 3 {
			ps.Pending = nil
		}
		l.Pending = append(l.Pending, ps)
	}
	res := Analyse(rec, nil, []LinkSeries{l}, 0, true, nil)
	got := res.Links[0]
	if got.MaxMs == nil || *got.MaxMs > 12 || *got.P50Ms < 2 {
		t.Fatalf("link a → b: p50 %s, max %s; want the run's own 2–12 ms", msText(got.P50Ms), msText(got.MaxMs))
	}
	if len(got.Probes) != 40 {
		t.Errorf("%d probes counted, want the run's 40", len(got.Probes))
	}
	if got.MaxPending == nil || *got.MaxPending != 4 {
		t.Errorf("max pending %v, want the run's own 4", got.MaxPending)
	}
	if len(got.Points) < 5 || got.Points[2].P99Ms != nil || got.Points[2].Probes != 0 {
		t.Fatalf("the interval without replication is not a gap: %+v", got.Points)
	}
	for i, p := range got.Points[:5] {
		if i != 2 && (p.P99Ms == nil || *p.P99Ms > 12) {
			t.Errorf("interval %d: p99 %s, want its own (≤ 12 ms)", i, msText(p.P99Ms))
		}
	}
}

// TestSummary_PlainWords checks that a summary prints no Go map and calls
// failed-over writes what they are.
func TestSummary_PlainWords(t *testing.T) {
	began := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	rec := NewRecording(Config{Endpoints: map[string]string{"a": "", "b": ""}, Table: "t", Duration: time.Hour})
	rec.Began, rec.Ended = began, began.Add(14*time.Second)
	v1 := conflict.Version{Wall: began.UnixNano(), Region: "b"}
	rec.Writes = []*Write{
		{ID: "a-1", Region: "a", Key: "k", Err: "connection refused", FailedOver: true},
		{ID: "a-1-f1", Region: "b", Key: "k", RetryOf: "a-1", Acked: began, Version: v1, Token: v1.Token()},
		{ID: "a-2", Region: "a", Key: "k", Err: "connection refused"},
		{ID: "b-1", Region: "b", Key: "j", Acked: began, Token: "x"},
	}
	res := Analyse(rec, nil, nil, time.Second, false, nil)
	res.LostBy["a"], res.LostBy["b"], res.WonBy["b"] = 1, 2, 3
	var sb strings.Builder
	res.Summary(&sb)
	out := sb.String()
	t.Log(out)
	if strings.Contains(out, "map[") || strings.Contains(out, "[a b]") {
		t.Error("the summary prints Go maps or slices")
	}
	for _, want := range []string{"3 writes (1 refused by their region and retried in another, 1 failed)", "for 14s",
		"(by the region that wrote them: a 1, b 2)", "conflicts won by region: b 3", "NOT converged 1s after the load stopped: none could be read"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q", want)
		}
	}
}
