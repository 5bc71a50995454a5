package experiment

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// Event is something that happened during an experiment or drill (a
// fault injected, a region killed or restarted, a link healed), shown on
// the report's timeline.
type Event struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// palette colours the links' series; it repeats past its length.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

// chart geometry, in SVG user units.
const (
	chartW, chartH         = 900, 300
	padL, padR, padT, padB = 60, 20, 20, 40
)

type axis struct {
	t0     time.Time
	span   float64 // seconds
	yMax   float64
	yLabel string
}

func (a axis) x(t time.Time) float64 {
	if a.span <= 0 {
		return padL
	}
	return padL + (chartW-padL-padR)*t.Sub(a.t0).Seconds()/a.span
}

func (a axis) y(v float64) float64 {
	if a.yMax <= 0 {
		return chartH - padB
	}
	return chartH - padB - (chartH-padT-padB)*v/a.yMax
}

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// frame draws the axes, gridlines and labels of a chart.
func (a axis) frame(b *strings.Builder) {
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, padL, chartH-padB, chartW-padR, chartH-padB)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, padL, padT, padL, chartH-padB)
	for i := 0; i <= 4; i++ {
		v := a.yMax * float64(i) / 4
		y := a.y(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`, padL-6, y+4, trimFloat(v))
	}
	for i := 0; i <= 5; i++ {
		s := a.span * float64(i) / 5
		x := padL + (chartW-padL-padR)*float64(i)/5
		fmt.Fprintf(b, `<text x="%.1f" y="%d" class="tick" text-anchor="middle">%ss</text>`, x, chartH-padB+18, trimFloat(s))
	}
	fmt.Fprintf(b, `<text x="14" y="%d" class="label" transform="rotate(-90 14 %d)">%s</text>`, chartH/2, chartH/2, template.HTMLEscapeString(a.yLabel))
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// events draws the fault timeline as vertical markers.
func (a axis) events(b *strings.Builder, evs []Event) {
	for _, e := range evs {
		x := a.x(e.At)
		fmt.Fprintf(b, `<g class="event"><line x1="%.1f" y1="%d" x2="%.1f" y2="%d"/><title>%s: %s</title></g>`,
			x, padT, x, chartH-padB, e.At.Format("15:04:05.000"), template.HTMLEscapeString(e.What))
	}
}

// latencyChart draws each link's p50 (solid) and p99 (dashed) over time.
func (r *Result) latencyChart(t0 time.Time, span float64) template.HTML {
	max := 0.0
	for _, l := range r.Links {
		for _, s := range l.Samples {
			max = math.Max(max, s.P99Ms)
		}
	}
	a := axis{t0: t0, span: span, yMax: niceMax(max), yLabel: "replication latency (ms)"}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" class="chart" role="img" aria-label="replication latency per link over time">`, chartW, chartH)
	a.frame(&b)
	a.events(&b, r.Events)
	for i, l := range r.Links {
		col := palette[i%len(palette)]
		for _, dash := range []bool{false, true} {
			var pts []string
			for _, s := range l.Samples {
				v := s.P50Ms
				if dash {
					v = s.P99Ms
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", a.x(s.At), a.y(v)))
			}
			style := ""
			what := "p50"
			if dash {
				style, what = ` stroke-dasharray="5 4"`, "p99"
			}
			fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="%s" stroke-width="2"%s points="%s"><title>%s → %s %s</title></polyline>`,
				col, style, strings.Join(pts, " "), template.HTMLEscapeString(l.Source), template.HTMLEscapeString(l.Dest), what)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// conflictChart draws conflicts detected per second.
func (r *Result) conflictChart(t0 time.Time, span float64) template.HTML {
	buckets := make([]int, int(math.Ceil(span))+1)
	for _, c := range r.Conflicted {
		i := int(c.DetectedAt.Sub(t0).Seconds())
		if i >= 0 && i < len(buckets) {
			buckets[i]++
		}
	}
	max := 0
	for _, n := range buckets {
		max = int(math.Max(float64(max), float64(n)))
	}
	a := axis{t0: t0, span: span, yMax: niceMax(float64(max)), yLabel: "conflicts per second"}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" class="chart" role="img" aria-label="conflicts over time">`, chartW, chartH)
	a.frame(&b)
	a.events(&b, r.Events)
	w := (chartW - padL - padR) / math.Max(span, 1)
	for i, n := range buckets {
		if n == 0 {
			continue
		}
		x := padL + w*float64(i)
		fmt.Fprintf(&b, `<rect class="series bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%d conflicts at %ds</title></rect>`,
			x, a.y(float64(n)), math.Max(w-1, 1), a.y(0)-a.y(float64(n)), n, i)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>globaltables {{.Kind}} report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:980px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
.chart{width:100%;height:auto;background:#fafafa;border:1px solid #eee}
.axis{stroke:#444}.grid{stroke:#e4e4e4}.tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}
.bar{fill:#d62728}.event line{stroke:#000;stroke-dasharray:2 3}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:4px}
.verdict{font-weight:bold}.pass{color:#2ca02c}.fail{color:#d62728}
</style></head><body>
<h1>globaltables {{.Kind}}{{if .Name}}: {{.Name}}{{end}}</h1>
{{if .Verdict}}<p class="verdict {{if .Passed}}pass{{else}}fail{{end}}">{{.Verdict}}</p>{{end}}
<table>
<tr><th>writes</th><td>{{.R.Writes}} ({{.R.WriteErrors}} failed)</td></tr>
<tr><th>reads</th><td>{{.R.Reads}}, {{.R.StaleReads}} stale (missed writes p50 {{.StaleP50}}, max {{.StaleMax}} old)</td></tr>
<tr><th>conflicts</th><td>{{.R.Conflicts}}; acknowledged writes overwritten: {{.R.Lost}}; decided by clock skew: {{.R.SkewDecided}}</td></tr>
<tr><th>overwritten, by region that wrote them</th><td>{{range $k, $v := .R.LostBy}}{{$k}}: {{$v}} {{end}}</td></tr>
<tr><th>conflicts won, by region</th><td>{{range $k, $v := .R.WonBy}}{{$k}}: {{$v}} {{end}}</td></tr>
<tr><th>convergence</th><td>{{if .R.Converged}}converged {{.Converge}} after the load stopped{{else}}NOT converged ({{.Converge}} after the load stopped){{end}}</td></tr>
<tr><th>workload</th><td>{{.R.Config.Keys}} keys{{if gt .R.Config.Zipf 1.0}} (Zipf {{.R.Config.Zipf}}){{end}}, {{.R.Config.Rate}} ops/s per region in {{.R.Config.WriteRegions}}, read ratio {{.R.Config.ReadRatio}}, {{.R.Config.ItemSize}}-byte items, {{.Duration}}, seed {{.R.Config.Seed}}</td></tr>
</table>
<h2>Replication latency per link (p50 solid, p99 dashed; last-minute windows sampled each second)</h2>
<div class="legend">{{range .Legend}}<span><i style="background:{{.Color}}"></i>{{.Name}}</span>{{end}}</div>
{{.Latency}}
<h2>Conflicts over time</h2>
{{.Conflicts}}
<h2>Timeline</h2>
{{if .R.Events}}<table>{{range .R.Events}}<tr><td>{{.At.Format "15:04:05.000"}}</td><td>{{.What}}</td></tr>{{end}}</table>{{else}}<p>No faults were injected.</p>{{end}}
<script>
document.addEventListener("DOMContentLoaded", function () {
  var charts = document.querySelectorAll("svg.chart").length;
  var series = document.querySelectorAll("svg.chart .series").length;
  document.body.setAttribute("data-rendered", charts + " charts, " + series + " series");
});
</script>
</body></html>
`))

type legendEntry struct{ Name, Color string }

// WriteHTML writes a self-contained report: no scripts or styles from the
// network, charts as inline SVG, so it opens anywhere, offline.
func (r *Result) WriteHTML(w io.Writer, kind, name, verdict string, passed bool) error {
	t0, t1 := r.Began, r.Ended
	for _, l := range r.Links {
		for _, s := range l.Samples {
			if t0.IsZero() || s.At.Before(t0) {
				t0 = s.At
			}
			if s.At.After(t1) {
				t1 = s.At
			}
		}
	}
	for _, e := range r.Events {
		if e.At.Before(t0) {
			t0 = e.At
		}
		if e.At.After(t1) {
			t1 = e.At
		}
	}
	span := math.Max(t1.Sub(t0).Seconds(), 1)
	var legend []legendEntry
	for i, l := range r.Links {
		legend = append(legend, legendEntry{Name: l.Source + " → " + l.Dest, Color: palette[i%len(palette)]})
	}
	sort.SliceStable(r.Events, func(i, j int) bool { return r.Events[i].At.Before(r.Events[j].At) })
	return reportTemplate.Execute(w, map[string]any{
		"Kind": kind, "Name": name, "Verdict": verdict, "Passed": passed, "R": r,
		"StaleP50": r.StaleP50.Round(time.Microsecond), "StaleMax": r.StaleMax.Round(time.Microsecond),
		"Converge": r.ConvergeAfter.Round(time.Millisecond), "Duration": r.Config.Duration,
		"Legend": legend, "Latency": r.latencyChart(t0, span), "Conflicts": r.conflictChart(t0, span),
	})
}
