package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Charts are hand-drawn inline SVG: the file must load nothing and run no
// script, and the one served Go module that renders SVG charts
// (go-analyze/charts) lays x out as categories, so samples with gaps would
// be drawn evenly spaced and a fitted line could not start at the warm-up
// cut; go-echarts needs its JavaScript from a CDN.

// Chart geometry in SVG user units; the SVG scales to its box (viewBox).
const (
	chartW  = 560
	chartH  = 260
	padL    = 46
	padR    = 46
	padT    = 26
	padB    = 30
	plotW   = chartW - padL - padR
	plotH   = chartH - padT - padB
	maxTick = 6
	// farAbove is how far above the data a budget line may sit and still
	// set the scale.
	farAbove = 3
)

// series is one drawn line (or set of points) of a chart.
type series struct {
	Name   string
	Class  string // the CSS class that colours it: s1…s5
	X, Y   []float64
	Right  bool // on the right-hand axis
	Dashed bool
	Dots   bool // points, not a line
}

// hline is a threshold drawn across the plot: an SLA budget.
type hline struct {
	Label string
	Y     float64
}

// chart is one SVG chart: x in seconds since the run's start.
type chart struct {
	ID           string
	Title        string
	Left, Right  string // the axes' units
	Series       []series
	Lines        []hline
	XMin, XMax   float64
	LeftFmt      func(float64) string
	RightFmt     func(float64) string
	Zero         bool       // the left axis starts at zero whatever the data (rates, latency)
	RightZero    bool       // the right axis does too (users, arrivals: 8 of 10 users is not near none)
	Shade        [2]float64 // an x span shaded (the leak hunter's warm-up), when Shade[1] > Shade[0]
	ShadeLabel   string
	lmin, lmax   float64
	rmin, rmax   float64
	hasRightAxis bool
}

// SVG draws the chart. Every text is escaped; numbers are formatted here.
func (c *chart) SVG() template.HTML {
	c.scale()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		esc(c.ID), chartW, chartH, esc(c.Title))
	if c.Shade[1] > c.Shade[0] {
		x0, x1 := c.x(c.Shade[0]), c.x(c.Shade[1])
		fmt.Fprintf(&b, `<rect class="shade" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s</title></rect>`,
			x0, padT, x1-x0, plotH, esc(c.ShadeLabel))
		fmt.Fprintf(&b, `<text class="shade-label" x="%.1f" y="%d">%s</text>`, x0+4, padT+12, esc(c.ShadeLabel))
	}
	c.axes(&b)
	c.budgets(&b)
	for _, s := range c.Series {
		c.draw(&b, s)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// labelGap is the least distance between two budget labels' baselines:
// a line of the charts' 10-unit text and a little air.
const labelGap = 12

// maxAboveChars bounds the one line that names the budgets above the
// chart: about what fits across the plot; the rest is in its tooltip.
const maxAboveChars = 72

// budgets draws the budget lines inside the plot, their labels moved
// apart so that none overlaps another, and names the budgets above the
// plot on one line of the top margin, where no data is drawn.
func (c *chart) budgets(b *strings.Builder) {
	type placed struct {
		l     hline
		y, ty float64
	}
	var in []placed
	var above []string
	for _, l := range c.Lines {
		if l.Y > c.lmax {
			above = append(above, l.Label)
			continue
		}
		y := c.y(l.Y, false)
		in = append(in, placed{l: l, y: y, ty: y - 4})
	}
	// Top to bottom, each label at least labelGap below the one before;
	// a label pushed past the plot's bottom goes back up, and those above
	// it with it.
	sort.SliceStable(in, func(i, j int) bool { return in[i].y < in[j].y })
	for i := range in {
		if i > 0 && in[i].ty < in[i-1].ty+labelGap {
			in[i].ty = in[i-1].ty + labelGap
		}
	}
	floor := float64(padT + plotH - 2)
	for i := len(in) - 1; i >= 0; i-- {
		limit := floor
		if i < len(in)-1 {
			limit = in[i+1].ty - labelGap
		}
		in[i].ty = math.Min(in[i].ty, limit)
	}
	for _, p := range in {
		fmt.Fprintf(b, `<g class="budget"><title>%s</title><line x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`+
			`<text x="%d" y="%.1f" text-anchor="end">%s</text></g>`, esc(p.l.Label), padL, padL+plotW, p.y, p.y, padL+plotW-4, p.ty, esc(p.l.Label))
	}
	if len(above) > 0 {
		all := "↑ above the chart: " + strings.Join(above, " · ")
		text := all
		if r := []rune(text); len(r) > maxAboveChars {
			text = string(r[:maxAboveChars-1]) + "…"
		}
		fmt.Fprintf(b, `<g class="budget above"><title>%s</title><text x="%d" y="%d" text-anchor="middle">%s</text></g>`,
			esc(all), padL+plotW/2, padT-12, esc(text))
	}
}

// Legend is the chart's series and budgets, for the HTML legend.
func (c *chart) Legend() []legendItem {
	var out []legendItem
	for _, s := range c.Series {
		kind := "line"
		switch {
		case s.Dots:
			kind = "dot"
		case s.Dashed:
			kind = "dash"
		}
		name := s.Name
		if s.Right && c.Right != "" {
			name += " (right axis)"
		}
		out = append(out, legendItem{Name: name, Class: s.Class, Kind: kind})
	}
	for _, l := range c.Lines {
		out = append(out, legendItem{Name: l.Label, Class: "budget", Kind: "dash"})
	}
	return out
}

type legendItem struct{ Name, Class, Kind string }

func (c *chart) draw(b *strings.Builder, s series) {
	// data-max holds the series' highest value, for a reader (or a test)
	// that checks what is drawn without inverting the scale.
	top := math.Inf(-1)
	for _, v := range s.Y {
		top = math.Max(top, v)
	}
	fmt.Fprintf(b, `<g class="series %s" data-name="%s" data-points="%d" data-max="%s"><title>%s</title>`, s.Class, esc(s.Name), len(s.X), strconv.FormatFloat(top, 'g', 6, 64), esc(s.Name))
	if s.Dots {
		for i := range s.X {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="1.8"/>`, c.x(s.X[i]), c.y(s.Y[i], s.Right))
		}
	} else {
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(b, `<polyline%s points="`, dash)
		for i := range s.X {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(b, "%.1f,%.1f", c.x(s.X[i]), c.y(s.Y[i], s.Right))
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</g>`)
}

// scale sets each axis's range from its series (and budgets, on the left),
// from zero unless the values sit far from it (memory).
func (c *chart) scale() {
	c.lmin, c.lmax = math.Inf(1), math.Inf(-1)
	c.rmin, c.rmax = math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, v := range s.Y {
			if s.Right {
				c.rmin, c.rmax = math.Min(c.rmin, v), math.Max(c.rmax, v)
				c.hasRightAxis = true
			} else {
				c.lmin, c.lmax = math.Min(c.lmin, v), math.Max(c.lmax, v)
			}
		}
	}
	dataMax := c.lmax
	for _, l := range c.Lines {
		// A budget far above the data would flatten it to the floor: it is
		// marked at the top edge instead (SVG draws it as "↑ label").
		if math.IsInf(dataMax, -1) || dataMax <= 0 || l.Y <= farAbove*dataMax {
			c.lmin, c.lmax = math.Min(c.lmin, l.Y), math.Max(c.lmax, l.Y)
		}
	}
	if c.Zero && c.lmin > 0 {
		c.lmin = 0
	}
	if c.RightZero && c.rmin > 0 {
		c.rmin = 0
	}
	c.lmin, c.lmax = niceRange(c.lmin, c.lmax)
	c.rmin, c.rmax = niceRange(c.rmin, c.rmax)
	if c.XMax <= c.XMin {
		c.XMax = c.XMin + 1
	}
}

// niceRange widens [lo, hi] to round ticks, from zero when zero is near.
func niceRange(lo, hi float64) (float64, float64) {
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return 0, 1
	}
	if lo >= 0 && lo < hi/2 || lo == hi && lo >= 0 {
		lo = 0
	}
	if hi <= lo {
		hi = lo + 1
	}
	hi += (hi - lo) * 0.05 // headroom: a steady line does not run along the top
	step := niceStep((hi - lo) / maxTick)
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step
}

// niceStep is the round tick step (1, 2 or 5 × 10^k) at or above raw.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func (c *chart) x(v float64) float64 {
	return padL + (v-c.XMin)/(c.XMax-c.XMin)*plotW
}

func (c *chart) y(v float64, right bool) float64 {
	lo, hi := c.lmin, c.lmax
	if right {
		lo, hi = c.rmin, c.rmax
	}
	return padT + plotH - (v-lo)/(hi-lo)*plotH
}

// axes draws the grid, the tick labels and the axes' units.
func (c *chart) axes(b *strings.Builder) {
	b.WriteString(`<g class="axes">`)
	step := niceStep((c.lmax - c.lmin) / maxTick)
	for v := c.lmin; v <= c.lmax+step/2; v += step {
		y := c.y(v, false)
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`,
			padL, padL+plotW, y, y, padL-6, y+4, esc(c.LeftFmt(v)))
	}
	if c.hasRightAxis && c.RightFmt != nil {
		rstep := niceStep((c.rmax - c.rmin) / maxTick)
		for v := c.rmin; v <= c.rmax+rstep/2; v += rstep {
			fmt.Fprintf(b, `<text class="right" x="%d" y="%.1f">%s</text>`, padL+plotW+6, c.y(v, true)+4, esc(c.RightFmt(v)))
		}
		fmt.Fprintf(b, `<text class="unit" x="%d" y="%d" text-anchor="end">%s</text>`, chartW-4, padT-12, esc(c.Right))
	}
	fmt.Fprintf(b, `<text class="unit" x="4" y="%d">%s</text>`, padT-12, esc(c.Left))
	xstep := timeStep((c.XMax - c.XMin) / 6)
	for v := math.Ceil(c.XMin/xstep) * xstep; v <= c.XMax+1e-9; v += xstep {
		x := c.x(v)
		fmt.Fprintf(b, `<line class="tick" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`,
			x, x, padT+plotH, padT+plotH+4, x, padT+plotH+18, esc(clock(v)))
	}
	fmt.Fprintf(b, `<line class="axis" x1="%d" x2="%d" y1="%d" y2="%d"/></g>`, padL, padL+plotW, padT+plotH, padT+plotH)
}

// timeStep is a round step of seconds for the time axis.
func timeStep(raw float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400} {
		if s >= raw {
			return s
		}
	}
	return niceStep(raw/86400) * 86400
}

// clock prints seconds since the start as m:ss or h:mm:ss.
func clock(s float64) string {
	n := int(math.Round(s))
	if n >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", n/3600, n/60%60, n%60)
	}
	return fmt.Sprintf("%d:%02d", n/60, n%60)
}

func esc(s string) string { return template.HTMLEscapeString(s) }
