package region

import (
	"context"
	"net/http"

	"github.com/globaltables/globaltables/region/metrics"
	"github.com/globaltables/globaltables/replicator"
)

// metricsSource is the region as its metrics read it at scrape time.
type metricsSource struct{ r *Region }

func (s metricsSource) Tables() []metrics.Table {
	tables, err := s.r.db.Tables()
	if err != nil {
		return nil
	}
	out := make([]metrics.Table, 0, len(tables))
	for _, t := range tables {
		items, bytes := s.r.db.Stats(t.Name)
		out = append(out, metrics.Table{Name: t.Name, Items: items, Bytes: bytes})
	}
	return out
}

func (s metricsSource) Applied() []metrics.Applied {
	counts := s.r.db.ApplyCounts()
	out := make([]metrics.Applied, len(counts))
	for i, c := range counts {
		out[i] = metrics.Applied{Source: c.Source, Table: c.Table, Applied: c.Applied, Conflicts: c.Conflicts}
	}
	return out
}

func (s metricsSource) Backlog() (uint64, bool) {
	if s.r.repl == nil || s.r.repl.rep == nil {
		return 0, false
	}
	return s.r.repl.rep.Publisher().Status().Backlog, true
}

func (s metricsSource) Pending(ctx context.Context) []metrics.Pending {
	if s.r.repl == nil || s.r.repl.rep == nil {
		return nil
	}
	obs := s.r.repl.rep.Outbound(ctx)
	out := make([]metrics.Pending, len(obs))
	for i, o := range obs {
		out[i] = metrics.Pending{Destination: o.Dest, Changes: o.Pending, Known: o.Known}
	}
	return out
}

// latencyObserver gives each inbound link its replication latency
// histogram.
func (r *Region) latencyObserver(source string) replicator.Observer {
	return r.metrics.Latency(source)
}

// mountMetrics serves the metrics at metrics.Path: behind the control
// guard like the status (loopback or the listen address as Host; the
// region's credentials when it has access keys), or open to any scraper
// with Config.OpenMetrics.
func (r *Region) mountMetrics() {
	var h http.Handler = r.metrics.Handler()
	if !r.cfg.OpenMetrics {
		h = r.guard.wrap(h, false)
	}
	r.api.Handle("GET "+metrics.Path, h)
}
