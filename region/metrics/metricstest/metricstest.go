// Package metricstest reads a region's /metrics for tests: it scrapes the
// endpoint over HTTP, parses the text format with Prometheus's own parser,
// and finds one series by name and labels. It is imported only by tests.
package metricstest

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Scrape fetches url (a region's /metrics) with hc (nil: a client with a
// 10 s timeout), sending token as a bearer token if it is not empty.
func Scrape(ctx context.Context, hc *http.Client, url, token string) (Families, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", url, err)
	}
	return Families(fams), nil
}

// Find returns the series of family name whose labels are exactly labels
// (its sample value: a counter's or gauge's value, a histogram's count),
// and whether there is one.
func (f Families) Find(name string, labels map[string]string) (float64, bool) {
	mf := f[name]
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if !sameLabels(m.GetLabel(), labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// Get is Find with an error naming the series and what the family holds
// when it is missing.
func (f Families) Get(name string, labels map[string]string) (float64, error) {
	if v, ok := f.Find(name, labels); ok {
		return v, nil
	}
	return 0, fmt.Errorf("no series %s%v; the family holds %s", name, labels, f.Describe(name))
}

// Describe lists the label sets of family name, for failure messages.
func (f Families) Describe(name string) string {
	mf := f[name]
	if mf == nil {
		return "nothing (no such family)"
	}
	var sets []string
	for _, m := range mf.GetMetric() {
		var kv []string
		for _, l := range m.GetLabel() {
			kv = append(kv, l.GetName()+"="+l.GetValue())
		}
		sets = append(sets, "{"+strings.Join(kv, ",")+"}")
	}
	sort.Strings(sets)
	return strings.Join(sets, " ")
}

func sameLabels(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
			return false
		}
	}
	return true
}
