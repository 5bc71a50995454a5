package experiment

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/globaltables/globaltables/region"
)

// TestMonitor_PendingUnknownWhileARegionIsDown reads the status of two
// regions, then of one while the other is down: the down region's inbound
// link is then unknown (a gap), not zero.
func TestMonitor_PendingUnknownWhileARegionIsDown(t *testing.T) {
	serve := func(st region.Status) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(st)
		}))
	}
	a := serve(region.Status{Region: "a", Conflicts: 3, Links: []region.LinkStatus{{Source: "b", Dest: "a", Pending: u64(7)}}})
	defer a.Close()
	b := serve(region.Status{Region: "b", Conflicts: 1, Links: []region.LinkStatus{{Source: "a", Dest: "b", Pending: u64(2)}}})
	m := NewMonitor(Config{Endpoints: map[string]string{"a": a.URL, "b": b.URL}, Table: "t"})
	m.pollStatus(context.Background())
	if _, pending, known := m.Now(); !known || pending != 9 {
		t.Fatalf("pending %d (known %v), want 9", pending, known)
	}
	b.Close()
	m.pollStatus(context.Background())
	if _, _, known := m.Now(); known {
		t.Fatal("with b down, the total pending is reported as known")
	}
	for _, l := range m.Links() {
		last := l.Pending[len(l.Pending)-1].Pending
		switch l.Source + ">" + l.Dest {
		case "a>b":
			if last != nil {
				t.Errorf("a → b, whose destination is down: pending %d, want unknown", *last)
			}
		case "b>a":
			if last == nil || *last != 7 {
				t.Errorf("b → a: pending %v, want 7", last)
			}
		}
	}
}

func u64(v uint64) *uint64 { return &v }

// TestMonitor_PendingFromSourceWhileLinkIsCut: the source's own measure of
// a link (its outbound report) wins over the destination's, and still
// reads while the destination is down.
func TestMonitor_PendingFromSourceWhileLinkIsCut(t *testing.T) {
	serve := func(st region.Status) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(st)
		}))
	}
	a := serve(region.Status{Region: "a", Outbound: []region.OutboundStatus{{Dest: "b", Pending: u64(5)}}})
	defer a.Close()
	b := serve(region.Status{Region: "b", Links: []region.LinkStatus{{Source: "a", Dest: "b"}}}) // disconnected: nil
	m := NewMonitor(Config{Endpoints: map[string]string{"a": a.URL, "b": b.URL}, Table: "t"})
	m.pollStatus(context.Background())
	b.Close()
	m.pollStatus(context.Background())
	for _, l := range m.Links() {
		if l.Source+">"+l.Dest != "a>b" {
			continue
		}
		for i, p := range l.Pending {
			if p.Pending == nil || *p.Pending != 5 {
				t.Fatalf("a → b reading %d: %v, want 5 from the source", i, p.Pending)
			}
		}
		return
	}
	t.Fatal("no a → b link")
}
