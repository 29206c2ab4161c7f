package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/hookline"
)

// Charts are small inline SVGs drawn here, server side: no chart library,
// no script, and they print and scale with the page.

const (
	// About the size a chart is shown at, so that its text stays legible.
	chartW, chartH = 360.0, 130.0
	padL, padR     = 40.0, 6.0
	padT, padB     = 8.0, 18.0
)

// line is one series of a line chart; NaN marks a bucket without data (a
// gap in the line).
type line struct {
	name  string
	class string // CSS class: colour
	vals  []float64
}

// renderWindow draws a window's charts from its buckets.
func renderWindow(label string, f hookline.StatsFilter, stats []hookline.StatsBucket, backlog []hookline.BacklogBucket) window {
	n := int(f.To.Sub(f.From) / f.Step)
	ok, bad := make([]float64, n), make([]float64, n)
	rate, p50, p95 := nanSlice(n), nanSlice(n), nanSlice(n)
	var total int64
	for _, s := range stats {
		i := int(s.Start.Sub(f.From) / f.Step)
		if i < 0 || i >= n {
			continue
		}
		perMin := float64(f.Step / time.Minute)
		ok[i], bad[i] = float64(s.Successes)/perMin, float64(s.Failures)/perMin
		total += s.Attempts
		if s.Attempts > 0 {
			rate[i] = s.SuccessRate() * 100
			p50[i], p95[i] = s.Quantile(0.5), s.Quantile(0.95)
		}
	}
	pending, oldest := nanSlice(n), nanSlice(n)
	for _, b := range backlog {
		i := int(b.Start.Sub(f.From) / f.Step)
		if i < 0 || i >= n {
			continue
		}
		pending[i], oldest[i] = float64(b.Pending), float64(b.OldestAgeMS)/1000
	}
	start := "−" + strings.TrimSuffix(strings.TrimSuffix(f.To.Sub(f.From).String(), "0s"), "0m")
	axis := [2]string{start, "now"}
	return window{
		Label: label,
		Deliveries: barChart("Deliveries per minute", axis, ok, bad,
			fmt.Sprintf("%d attempts in the window", total)),
		Success: lineChart("Success rate (%)", axis, []line{{"success rate", "s-ok", rate}}, 100, "%"),
		Latency: lineChart("Latency (ms)", axis, []line{{"p50", "s-p50", p50}, {"p95", "s-p95", p95}}, 0, " ms"),
		Backlog: lineChart("Backlog (pending deliveries)", axis, []line{{"pending", "s-backlog", pending}}, 0, ""),
		Oldest:  lineChart("Oldest pending (seconds waiting)", axis, []line{{"oldest pending", "s-oldest", oldest}}, 0, " s"),
	}
}

func nanSlice(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten, for a readable
// axis label.
func niceMax(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
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

func num(v float64) string {
	switch {
	case v >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v < 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// frame opens an SVG with its title, the y-axis maximum and the x labels.
func frame(b *strings.Builder, title, summary string, max float64, unit string, axis [2]string, points int) {
	fmt.Fprintf(b, `<figure class="chart"><figcaption>%s</figcaption>`, html.EscapeString(title))
	fmt.Fprintf(b, `<svg viewBox="0 0 %d %d" role="img" aria-label="%s" data-points="%d">`,
		int(chartW), int(chartH), html.EscapeString(title+": "+summary), points)
	fmt.Fprintf(b, `<title>%s</title>`, html.EscapeString(title+": "+summary))
	bottom := chartH - padB
	for _, g := range []float64{0, 0.5, 1} {
		y := padT + (bottom-padT)*(1-g)
		fmt.Fprintf(b, `<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(padL), f1(chartW-padR), f1(y), f1(y))
		fmt.Fprintf(b, `<text class="ylab" x="%s" y="%s">%s</text>`, f1(padL-4), f1(y+4), html.EscapeString(num(max*g)+unit))
	}
	fmt.Fprintf(b, `<text class="xlab" x="%s" y="%s">%s</text>`, f1(padL), f1(chartH-4), html.EscapeString(axis[0]))
	fmt.Fprintf(b, `<text class="xlab end" x="%s" y="%s">%s</text>`, f1(chartW-padR), f1(chartH-4), html.EscapeString(axis[1]))
}

// barChart stacks failures on successes per bucket.
func barChart(title string, axis [2]string, ok, bad []float64, summary string) template.HTML {
	var max float64
	points := 0
	for i := range ok {
		max = math.Max(max, ok[i]+bad[i])
		if ok[i]+bad[i] > 0 {
			points++
		}
	}
	max = niceMax(max)
	var b strings.Builder
	frame(&b, title, summary, max, "", axis, points)
	n := float64(len(ok))
	slot := (chartW - padL - padR) / n
	w := math.Max(slot*0.8, 1)
	bottom := chartH - padB
	scale := (bottom - padT) / max
	for i := range ok {
		x := padL + float64(i)*slot + (slot-w)/2
		hOK, hBad := ok[i]*scale, bad[i]*scale
		if hOK > 0 {
			fmt.Fprintf(&b, `<rect class="bar-ok" x="%s" y="%s" width="%s" height="%s"/>`, f1(x), f1(bottom-hOK), f1(w), f1(hOK))
		}
		if hBad > 0 {
			fmt.Fprintf(&b, `<rect class="bar-bad" x="%s" y="%s" width="%s" height="%s"/>`, f1(x), f1(bottom-hOK-hBad), f1(w), f1(hBad))
		}
	}
	b.WriteString(`</svg><p class="legend"><span class="key k-ok"></span>succeeded <span class="key k-bad"></span>failed</p></figure>`)
	return template.HTML(b.String()) // built from numbers and escaped text only
}

// lineChart draws series as polylines broken at NaN; fixedMax > 0 pins
// the y axis (percentages).
func lineChart(title string, axis [2]string, lines []line, fixedMax float64, unit string) template.HTML {
	max, points := 0.0, 0
	var last []string
	for _, l := range lines {
		lastVal := math.NaN()
		for _, v := range l.vals {
			if !math.IsNaN(v) {
				max = math.Max(max, v)
				points++
				lastVal = v
			}
		}
		if !math.IsNaN(lastVal) {
			last = append(last, l.name+" "+num(lastVal)+unit)
		}
	}
	summary := "no data yet"
	if len(last) > 0 {
		summary = "latest " + strings.Join(last, ", ")
	}
	if fixedMax > 0 {
		max = fixedMax
	} else {
		max = niceMax(max)
	}
	var b strings.Builder
	frame(&b, title, summary, max, unit, axis, points)
	bottom := chartH - padB
	for _, l := range lines {
		n := float64(len(l.vals))
		slot := (chartW - padL - padR) / n
		var seg []string
		flush := func() {
			switch len(seg) {
			case 0:
			case 1: // a lone point: draw a dot so it is visible
				xy := strings.Split(seg[0], ",")
				fmt.Fprintf(&b, `<circle class="%s" cx="%s" cy="%s" r="2.5"/>`, l.class, xy[0], xy[1])
			default:
				fmt.Fprintf(&b, `<polyline class="%s" points="%s"/>`, l.class, strings.Join(seg, " "))
			}
			seg = seg[:0]
		}
		for i, v := range l.vals {
			if math.IsNaN(v) {
				flush()
				continue
			}
			x := padL + (float64(i)+0.5)*slot
			y := bottom - math.Min(v, max)/max*(bottom-padT)
			seg = append(seg, f1(x)+","+f1(y))
		}
		flush()
	}
	b.WriteString(`</svg>`)
	if len(lines) > 1 {
		b.WriteString(`<p class="legend">`)
		for _, l := range lines {
			fmt.Fprintf(&b, `<span class="key k-%s"></span>%s `, strings.TrimPrefix(l.class, "s-"), html.EscapeString(l.name))
		}
		b.WriteString(`</p>`)
	}
	b.WriteString(`</figure>`)
	return template.HTML(b.String())
}
