package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scrapeTimeout bounds what one scrape waits for Source.Pending.
const scrapeTimeout = 5 * time.Second

// Source is what the metrics read from the region at scrape time.
type Source interface {
	// Tables returns each table's live items and their size.
	Tables() []Table
	// Applied returns the changes applied and conflicts met here, by
	// source region and table, since the region started.
	Applied() []Applied
	// Backlog returns how many local changes are not in this region's
	// stream yet; known is false when that cannot be told.
	Backlog() (n uint64, known bool)
	// Pending returns each outbound link's backlog, measured at this
	// region's stream.
	Pending(ctx context.Context) []Pending
}

// Table is one table's statistics.
type Table struct {
	Name         string
	Items, Bytes int64
}

// Applied counts what one source region's changes to one table did here.
type Applied struct {
	Source, Table      string
	Applied, Conflicts uint64
}

// Pending is one outbound link's backlog: changes of this region that
// Destination has not acknowledged. Known is false when it cannot be
// measured; the series is then left out.
type Pending struct {
	Destination string
	Changes     uint64
	Known       bool
}

var (
	pendingDesc = prometheus.NewDesc("globaltables_replication_pending_changes",
		"Changes of the source region (this one) that the destination has not acknowledged: the source stream's last sequence minus the ack floor of the destination's consumer. Measured at the source, so right while the link is cut; absent when it cannot be measured.",
		[]string{"source", "destination"}, nil)
	appliedDesc = prometheus.NewDesc("globaltables_replication_applied_total",
		"Changes from the source region that replaced an item in the destination (this region), by table.",
		[]string{"source", "destination", "table"}, nil)
	conflictsDesc = prometheus.NewDesc("globaltables_replication_conflicts_total",
		"Changes from the source region that were concurrent with this region's version of the item (last-writer-wins chose one), by table.",
		[]string{"source", "destination", "table"}, nil)
	backlogDesc = prometheus.NewDesc("globaltables_changelog_backlog",
		"Local changes of this region not yet acknowledged by its stream; absent when the publisher's state is unknown.",
		nil, nil)
	itemsDesc = prometheus.NewDesc("globaltables_items",
		"Live items (tombstones excluded) of a table in this region.",
		[]string{"table"}, nil)
	sizeDesc = prometheus.NewDesc("globaltables_table_size_bytes",
		"Size of a table's live items in this region, as DynamoDB measures item sizes.",
		[]string{"table"}, nil)
)

// collector reads a Source at scrape time.
type collector struct {
	region string
	src    Source
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{pendingDesc, appliedDesc, conflictsDesc, backlogDesc, itemsDesc, sizeDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	for _, p := range c.src.Pending(ctx) {
		if p.Known {
			ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(p.Changes), c.region, p.Destination)
		}
	}
	for _, a := range c.src.Applied() {
		ch <- prometheus.MustNewConstMetric(appliedDesc, prometheus.CounterValue, float64(a.Applied), a.Source, c.region, a.Table)
		ch <- prometheus.MustNewConstMetric(conflictsDesc, prometheus.CounterValue, float64(a.Conflicts), a.Source, c.region, a.Table)
	}
	if n, ok := c.src.Backlog(); ok {
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(n))
	}
	for _, t := range c.src.Tables() {
		ch <- prometheus.MustNewConstMetric(itemsDesc, prometheus.GaugeValue, float64(t.Items), t.Name)
		ch <- prometheus.MustNewConstMetric(sizeDesc, prometheus.GaugeValue, float64(t.Bytes), t.Name)
	}
}
