package metrics_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/globaltables/globaltables/region/metrics"
	"github.com/globaltables/globaltables/region/metrics/metricstest"
)

// fakeSource is a Source with fixed figures.
type fakeSource struct {
	pending []metrics.Pending
	backlog uint64
	known   bool
}

func (f *fakeSource) Tables() []metrics.Table {
	return []metrics.Table{{Name: "Music", Items: 3, Bytes: 120}}
}

func (f *fakeSource) Applied() []metrics.Applied {
	return []metrics.Applied{{Source: "eu-west-1", Table: "Music", Applied: 5, Conflicts: 1}}
}

func (f *fakeSource) Backlog() (uint64, bool) { return f.backlog, f.known }

func (f *fakeSource) Pending(context.Context) []metrics.Pending { return f.pending }

// TestMetrics_NamesLabelsAndUnknowns checks every metric's name and labels
// as served over HTTP, that measured figures move, and that figures the
// source cannot know are left out rather than served as 0.
func TestMetrics_NamesLabelsAndUnknowns(t *testing.T) {
	src := &fakeSource{
		pending: []metrics.Pending{
			{Destination: "eu-west-1", Changes: 42, Known: true},
			{Destination: "ap-southeast-1", Known: false},
		},
	}
	m := metrics.New("us-east-1", src)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	put := m.Operation("PutItem")
	put.Done("", 2*time.Millisecond)
	put.Done("", 3*time.Millisecond)
	put.Done("ConditionalCheckFailedException", time.Millisecond)
	m.ConsumedCapacity("Music", 0.5, 0)
	m.ConsumedCapacity("Music", 0, 2)
	m.Latency("eu-west-1").Observe(0.012)

	fams, err := metricstest.Scrape(context.Background(), nil, srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"globaltables_requests_total", map[string]string{"operation": "PutItem", "status": "ok"}, 2},
		{"globaltables_requests_total", map[string]string{"operation": "PutItem", "status": "ConditionalCheckFailedException"}, 1},
		{"globaltables_request_duration_seconds", map[string]string{"operation": "PutItem"}, 3},
		{"globaltables_consumed_capacity_units_total", map[string]string{"table": "Music", "kind": "read"}, 0.5},
		{"globaltables_consumed_capacity_units_total", map[string]string{"table": "Music", "kind": "write"}, 2},
		{"globaltables_replication_latency_seconds", map[string]string{"source": "eu-west-1", "destination": "us-east-1"}, 1},
		{"globaltables_replication_pending_changes", map[string]string{"source": "us-east-1", "destination": "eu-west-1"}, 42},
		{"globaltables_replication_applied_total", map[string]string{"source": "eu-west-1", "destination": "us-east-1", "table": "Music"}, 5},
		{"globaltables_replication_conflicts_total", map[string]string{"source": "eu-west-1", "destination": "us-east-1", "table": "Music"}, 1},
		{"globaltables_items", map[string]string{"table": "Music"}, 3},
		{"globaltables_table_size_bytes", map[string]string{"table": "Music"}, 120},
	}
	for _, w := range want {
		got, err := fams.Get(w.name, w.labels)
		if err != nil {
			t.Error(err)
			continue
		}
		if got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
	if v, ok := fams.Find("globaltables_replication_pending_changes", map[string]string{"source": "us-east-1", "destination": "ap-southeast-1"}); ok {
		t.Errorf("an unknown pending count is served as %v", v)
	}
	if _, ok := fams["globaltables_changelog_backlog"]; ok {
		t.Error("an unknown change-log backlog is served")
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("no %s: the Go and process collectors are missing", name)
		}
	}

	src.backlog, src.known = 9, true
	fams, err = metricstest.Scrape(context.Background(), nil, srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := fams.Get("globaltables_changelog_backlog", map[string]string{}); err != nil || v != 9 {
		t.Errorf("change-log backlog %v, %v; want 9", v, err)
	}
}

// TestMetrics_TwoRegionsInOneProcess checks that each Metrics has its own
// registry: a second one registers without a conflict.
func TestMetrics_TwoRegionsInOneProcess(t *testing.T) {
	a := metrics.New("a", &fakeSource{})
	b := metrics.New("b", &fakeSource{})
	a.Operation("GetItem").Done("", time.Millisecond)
	fams, err := b.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "globaltables_requests_total" && len(f.GetMetric()) > 0 {
			t.Fatalf("region b's registry holds region a's requests: %v", f)
		}
	}
}

// BenchmarkOperation_Done is the cost the metrics add to one request.
func BenchmarkOperation_Done(b *testing.B) {
	m := metrics.New("a", &fakeSource{})
	op := m.Operation("GetItem")
	b.ReportAllocs()
	for b.Loop() {
		op.Done("", time.Millisecond)
		m.ConsumedCapacity("Music", 0.5, 0)
	}
}
