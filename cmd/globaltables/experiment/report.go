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
// the report's timeline and as a labelled marker on its charts.
type Event struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// Phase is a named stretch of a drill, with its own counts; the report
// shows it as a row of its phase table and a labelled band on its charts.
type Phase struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Tally counts the writes and reads that began in the phase.
	Tally
	Conflicts int `json:"conflicts"`
	SkewWon   int `json:"skew_decided"`
}

// Fact is one line of a report's verdict box.
type Fact struct{ Name, Value string }

// Report is what a report says beyond the measures: what ran, where, and
// the verdict.
type Report struct {
	Kind    string // "experiment" or "drill"
	Name    string // the experiment's or drill's name
	Verdict string // the headline; an experiment's is Result.Headline if ""
	Passed  bool
	// Facts fill the verdict box under the headline (a drill's recovery
	// point, recovery time, maximum pending and time to converge).
	Facts    []Fact
	Phases   []Phase
	Topology string // the regions, e.g. "3 regions: us-east-1, eu-west-1, ap-southeast-1"
	Version  string // the globaltables build
}

// palette colours the links' series; it repeats past its length.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

// bandColours shade the phases, alternately.
var bandColours = []string{"#fff3cd", "#d1ecf1", "#e2e3f3", "#d4edda"}

// chart geometry, in SVG user units.
const (
	chartW, chartH         = 900, 300
	padL, padR, padT, padB = 60, 20, 28, 40
)

// axis maps wall-clock time and a value to chart coordinates.
type axis struct {
	t0, t1 time.Time
	yMax   float64
	yLabel string
}

func (a axis) span() float64 { return math.Max(a.t1.Sub(a.t0).Seconds(), 1) }

func (a axis) x(t time.Time) float64 {
	return padL + (chartW-padL-padR)*t.Sub(a.t0).Seconds()/a.span()
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

// tickStep picks a wall-clock tick spacing giving at most 8 ticks.
func tickStep(span float64) time.Duration {
	for _, s := range []int{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600} {
		if span/float64(s) <= 8 {
			return time.Duration(s) * time.Second
		}
	}
	return 2 * time.Hour
}

// frame draws the axes, gridlines and labels of a chart; the time axis is
// wall-clock time, as in the timeline.
func (a axis) frame(b *strings.Builder) {
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, padL, chartH-padB, chartW-padR, chartH-padB)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, padL, padT, padL, chartH-padB)
	for i := 0; i <= 4; i++ {
		v := a.yMax * float64(i) / 4
		y := a.y(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`, padL-6, y+4, trimFloat(v))
	}
	step := tickStep(a.span())
	for t := a.t0.Truncate(step); !t.After(a.t1); t = t.Add(step) {
		if t.Before(a.t0) {
			continue
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" class="tick" text-anchor="middle">%s</text>`, a.x(t), chartH-padB+18, t.Format("15:04:05"))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" class="tick" text-anchor="end">wall clock (%s)</text>`, chartW-padR, chartH-4, a.t0.Format("MST"))
	fmt.Fprintf(b, `<text x="14" y="%d" class="label" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>`, chartH/2, chartH/2, template.HTMLEscapeString(a.yLabel))
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// bands shades each phase and labels it at the top of the chart.
func (a axis) bands(b *strings.Builder, phases []Phase) {
	for i, ph := range phases {
		x0, x1 := a.x(ph.Start), a.x(ph.End)
		if ph.End.IsZero() || x1 < x0 {
			x1 = a.x(a.t1)
		}
		fmt.Fprintf(b, `<g class="phase-band"><rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/><text x="%.1f" y="%d" class="phase-label">%s</text><title>phase %s: %s to %s</title></g>`,
			x0, padT, math.Max(x1-x0, 0.5), chartH-padT-padB, bandColours[i%len(bandColours)], x0+4, padT-8,
			template.HTMLEscapeString(ph.Name), template.HTMLEscapeString(ph.Name), ph.Start.Format("15:04:05.000"), ph.End.Format("15:04:05.000"))
	}
}

// events draws the timeline as vertical markers, each labelled with its
// number in the timeline table and the start of its text; a marker too
// close to the last labelled one gets its number only. Phase starts are
// left to the bands.
func (a axis) events(b *strings.Builder, evs []Event) {
	lastX := math.Inf(-1)
	for i, e := range evs {
		if strings.HasPrefix(e.What, "phase ") {
			continue
		}
		x := a.x(e.At)
		label := fmt.Sprintf("%d %s", i+1, e.What)
		if r := []rune(label); len(r) > 40 {
			label = string(r[:39]) + "…"
		}
		if x-lastX < 12 {
			label = fmt.Sprintf("%d", i+1)
		} else {
			lastX = x
		}
		fmt.Fprintf(b, `<g class="event"><line x1="%.1f" y1="%d" x2="%.1f" y2="%d"/><text x="%.1f" y="%d" class="event-label" transform="rotate(90 %.1f %d)">%s</text><title>%s: %s</title></g>`,
			x, padT, x, chartH-padB, x+3, padT+4, x+3, padT+4, template.HTMLEscapeString(label),
			e.At.Format("15:04:05.000"), template.HTMLEscapeString(e.What))
	}
}

// path draws a series of points as a line broken at nil values: a gap
// where nothing was measured, never a line across it. Lone points get a
// dot, so that an interval between two gaps still shows.
func (a axis) path(b *strings.Builder, at []time.Time, vs []*float64, colour, dash, title string) {
	var d strings.Builder
	pen := false
	for i, v := range vs {
		if v == nil {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%.1f,%.1f ", cmd, a.x(at[i]), a.y(*v))
		lone := (i == 0 || vs[i-1] == nil) && (i == len(vs)-1 || vs[i+1] == nil)
		if lone {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>`, a.x(at[i]), a.y(*v), colour)
		}
		pen = true
	}
	fmt.Fprintf(b, `<path class="series" fill="none" stroke="%s" stroke-width="2"%s d="%s"><title>%s</title></path>`,
		colour, dash, strings.TrimSpace(d.String()), template.HTMLEscapeString(title))
}

// chart starts an SVG chart with its frame, phases and events.
func (rep *Report) chart(b *strings.Builder, a axis, label string, evs []Event) {
	fmt.Fprintf(b, `<svg viewBox="0 0 %d %d" class="chart" role="img" aria-label="%s">`, chartW, chartH, template.HTMLEscapeString(label))
	a.bands(b, rep.Phases)
	a.frame(b)
	a.events(b, evs)
}

// latencyChart draws each link's p50 (solid) and p99 (dashed) per
// interval, with gaps where the link carried nothing.
func (r *Result) latencyChart(rep *Report, t0, t1 time.Time) template.HTML {
	mx := 0.0
	for _, l := range r.Links {
		for _, p := range l.Points {
			if p.P99Ms != nil {
				mx = math.Max(mx, *p.P99Ms)
			}
		}
	}
	a := axis{t0: t0, t1: t1, yMax: niceMax(mx), yLabel: "replication latency (ms)"}
	var b strings.Builder
	rep.chart(&b, a, "replication latency per link over time", r.Events)
	for i, l := range r.Links {
		col := palette[i%len(palette)]
		at := make([]time.Time, len(l.Points))
		p50, p99 := make([]*float64, len(l.Points)), make([]*float64, len(l.Points))
		for j, p := range l.Points {
			at[j], p50[j], p99[j] = p.At.Add(Interval/2), p.P50Ms, p.P99Ms
		}
		a.path(&b, at, p50, col, "", l.Source+" → "+l.Dest+" p50")
		a.path(&b, at, p99, col, ` stroke-dasharray="5 4"`, l.Source+" → "+l.Dest+" p99")
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// pendingChart draws each link's pending changes, with gaps where they
// were unknown.
func (r *Result) pendingChart(rep *Report, t0, t1 time.Time) template.HTML {
	mx := 0.0
	for _, l := range r.Links {
		if l.MaxPending != nil {
			mx = math.Max(mx, float64(*l.MaxPending))
		}
	}
	a := axis{t0: t0, t1: t1, yMax: niceMax(mx), yLabel: "changes pending"}
	var b strings.Builder
	rep.chart(&b, a, "changes pending per link over time", r.Events)
	for i, l := range r.Links {
		at := make([]time.Time, len(l.Pending))
		vs := make([]*float64, len(l.Pending))
		for j, p := range l.Pending {
			at[j] = p.At
			if p.Pending != nil {
				v := float64(*p.Pending)
				vs[j] = &v
			}
		}
		a.path(&b, at, vs, palette[i%len(palette)], "", l.Source+" → "+l.Dest+" pending")
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// conflictChart draws conflicts detected per interval.
func (r *Result) conflictChart(rep *Report, t0, t1 time.Time) template.HTML {
	n := int(t1.Sub(t0)/Interval) + 1
	buckets := make([]int, n)
	for _, c := range r.Conflicted {
		if i := int(c.DetectedAt.Sub(t0) / Interval); i >= 0 && i < n {
			buckets[i]++
		}
	}
	mx := 0
	for _, c := range buckets {
		mx = max(mx, c)
	}
	a := axis{t0: t0, t1: t1, yMax: niceMax(float64(mx)), yLabel: "conflicts per second"}
	var b strings.Builder
	rep.chart(&b, a, "conflicts over time", r.Events)
	for i, c := range buckets {
		if c == 0 {
			continue
		}
		at := t0.Add(time.Duration(i) * Interval)
		x0, x1 := a.x(at), a.x(at.Add(Interval))
		fmt.Fprintf(&b, `<rect class="series bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%d conflicts at %s</title></rect>`,
			x0, a.y(float64(c)), math.Max(x1-x0-1, 1), a.y(0)-a.y(float64(c)), c, at.Format("15:04:05"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"inc":      func(i int) int { return i + 1 },
	"phaseLen": func(p Phase) time.Duration { return p.End.Sub(p.Start).Round(100 * time.Millisecond) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>globaltables {{.Rep.Kind}} report{{if .Rep.Name}}: {{.Rep.Name}}{{end}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:980px}
h1{font-size:20px;margin-bottom:4px}h2{font-size:16px;margin-top:28px}
.meta{color:#555;margin-top:0}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
td.n,th.n{text-align:right}
.chart{width:100%;height:auto;background:#fafafa;border:1px solid #eee}
.axis{stroke:#444}.grid{stroke:#e4e4e4}.tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}
.bar{fill:#d62728}.event line{stroke:#000;stroke-dasharray:2 3}.event-label{font-size:10px;fill:#333}
.phase-label{font-size:11px;font-weight:bold;fill:#444}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:4px}
.verdict-box{border:2px solid;border-radius:6px;padding:10px 16px;margin:14px 0}
.verdict-box.pass{border-color:#2ca02c;background:#f0faf0}.verdict-box.fail{border-color:#d62728;background:#fdf0f0}
.verdict{font-weight:bold;font-size:15px;margin:0 0 6px}.pass .verdict{color:#1e7b1e}.fail .verdict{color:#b21f1f}
.verdict-box table td,.verdict-box table th{border-bottom:none;padding:2px 10px 2px 0}
</style></head><body>
<h1>globaltables {{.Rep.Kind}}{{if .Rep.Name}}: {{.Rep.Name}}{{end}}</h1>
<p class="meta">Run {{.Date}} · workload {{.Duration}}{{if .Rep.Topology}} · {{.Rep.Topology}}{{end}}{{if .Rep.Version}} · globaltables {{.Rep.Version}}{{end}}</p>
<div class="verdict-box {{if .Rep.Passed}}pass{{else}}fail{{end}}">
<p class="verdict">{{.Rep.Verdict}}</p>
{{if .Rep.Facts}}<table>{{range .Rep.Facts}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
</div>
{{if .Rep.Phases}}<h2>Phases</h2>
<table class="phases"><tr><th>phase</th><th>from</th><th>to</th><th class="n">length</th><th class="n">writes</th><th class="n">retried elsewhere</th><th class="n">writes failed</th><th class="n">conflicts</th><th class="n">reads</th><th class="n">reads failed</th><th class="n">stale reads</th></tr>
{{range .Rep.Phases}}<tr><td>{{.Name}}</td><td>{{.Start.Format "15:04:05.000"}}</td><td>{{.End.Format "15:04:05.000"}}</td><td class="n">{{phaseLen .}}</td><td class="n">{{.Writes}}</td><td class="n">{{.FailedOver}}</td><td class="n">{{.WriteErrors}}</td><td class="n">{{.Conflicts}}</td><td class="n">{{.Reads}}</td><td class="n">{{.ReadErrors}}</td><td class="n">{{.StaleReads}}</td></tr>
{{end}}</table>{{end}}
<h2>Figures</h2>
<table>
<tr><th>writes</th><td>{{.R.WritesText}}</td></tr>
<tr><th>reads</th><td>{{.R.ReadsText}}</td></tr>
<tr><th>stale reads</th><td>{{.R.StaleText}}</td></tr>
<tr><th>conflicts</th><td>{{.R.Conflicts}}; acknowledged writes overwritten: {{.R.Lost}}; decided by clock skew: {{.R.SkewDecided}}</td></tr>
<tr><th>overwritten, by region that wrote them</th><td>{{.LostBy}}</td></tr>
<tr><th>conflicts won, by region</th><td>{{.WonBy}}</td></tr>
<tr><th>convergence</th><td>{{.Convergence}}</td></tr>
<tr><th>workload</th><td>{{.R.Config.Keys}} keys{{if gt .R.Config.Zipf 1.0}} (Zipf {{.R.Config.Zipf}}){{end}}, {{.R.Config.Rate}} ops/s per region in {{.Regions}}, read ratio {{.R.Config.ReadRatio}}, {{.R.Config.ItemSize}}-byte items, {{.Duration}}, seed {{.R.Config.Seed}}</td></tr>
{{range .R.Links}}<tr><th>link</th><td>{{.LinkText}}</td></tr>
{{end}}</table>
<div class="legend">{{range .Legend}}<span><i style="background:{{.Color}}"></i>{{.Name}}</span>{{end}}</div>
<h2>Replication latency per link (each second's p50 solid, p99 dashed; gaps: nothing replicated)</h2>
<p class="meta">Measured by following the run's own writes: from the acknowledgement in the source to the first read that finds it in the destination.</p>
{{.Latency}}
<h2>Changes pending per link (gaps: unknown)</h2>
{{.Pending}}
<h2>Conflicts over time</h2>
{{.Conflicts}}
<h2>Timeline</h2>
{{if .R.Events}}<table>{{range $i, $e := .R.Events}}<tr><td class="n">{{inc $i}}</td><td>{{$e.At.Format "15:04:05.000"}}</td><td>{{$e.What}}</td></tr>{{end}}</table>{{else}}<p>No faults were injected.</p>{{end}}
<script>
document.addEventListener("DOMContentLoaded", function () {
  var q = function (s) { return document.querySelectorAll(s).length; };
  var labels = Array.prototype.map.call(document.querySelectorAll("svg.chart:first-of-type .phase-label"), function (e) { return e.textContent; });
  document.body.setAttribute("data-rendered", q("svg.chart") + " charts, " + q("svg.chart .series") + " series, " +
    q(".verdict-box tr") + " verdict rows, " + q("svg.chart .phase-band") + " bands, " + q("svg.chart .event-label") + " event labels");
  document.body.setAttribute("data-phases", labels.join("|"));
});
</script>
</body></html>
`))

type legendEntry struct{ Name, Color string }

// WriteHTML writes a self-contained report: no scripts or styles from the
// network, charts as inline SVG, so it opens anywhere, offline. The
// charts and the timeline share one time base, the wall clock.
func (r *Result) WriteHTML(w io.Writer, rep Report) error {
	if rep.Verdict == "" {
		rep.Verdict, rep.Passed = r.Headline()
	}
	t0, t1 := r.Began, r.Ended.Add(r.ConvergeAfter)
	widen := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if t0.IsZero() || t.Before(t0) {
			t0 = t
		}
		if t.After(t1) {
			t1 = t
		}
	}
	for _, e := range r.Events {
		widen(e.At)
	}
	for _, ph := range rep.Phases {
		widen(ph.Start)
		widen(ph.End)
	}
	var legend []legendEntry
	for i, l := range r.Links {
		legend = append(legend, legendEntry{Name: l.Source + " → " + l.Dest, Color: palette[i%len(palette)]})
	}
	sort.SliceStable(r.Events, func(i, j int) bool { return r.Events[i].At.Before(r.Events[j].At) })
	convergence := fmt.Sprintf("converged %s after the load stopped", r.ConvergeAfter.Round(time.Millisecond))
	switch {
	case r.Interrupted:
		convergence = "not measured: the run was interrupted"
	case !r.Converged:
		convergence = fmt.Sprintf("NOT converged %s after the load stopped: %s", r.ConvergeAfter.Round(time.Millisecond), DigestsText(r.Digests))
	}
	return reportTemplate.Execute(w, map[string]any{
		"Rep": rep, "R": r, "Date": r.Began.Format("2006-01-02 15:04:05 MST"), "Duration": r.Duration(),
		"Convergence": convergence, "Regions": strings.Join(r.Config.WriteRegions, ", "),
		"LostBy": CountsText(r.LostBy), "WonBy": CountsText(r.WonBy), "Legend": legend,
		"Latency": r.latencyChart(&rep, t0, t1), "Pending": r.pendingChart(&rep, t0, t1), "Conflicts": r.conflictChart(&rep, t0, t1),
	})
}
