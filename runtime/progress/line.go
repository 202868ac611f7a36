package progress

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"lab/lang"
	"lab/lang/units"
	"lab/runtime/engine"
)

// barCells is the bar's length when there is room for all of it.
const barCells = 20

// fields are one tick's parts of the line, as plain text.
type fields struct {
	frac     float64 // of the run done, for the bar
	elapsed  string  // "30s/1m"
	stage    string  // "stage 2/3"
	load     string  // "200 users", "200/s target"
	inFlight string  // ", 7 in flight" (open model)
	reqs     string  // "450 req/s"
	p50, p95 string  // "p50 12ms"
	fails    string  // "3 fail/s"
	failing  bool
	totals   string // "9000 requests, 20 failed"
}

// view says which parts a line shows and how long its bar is.
type view struct {
	bar                                   int
	stage, load, inFlight, p95, p50, reqs bool
	fails, totals                         bool
}

func newFields(t engine.Tick) fields {
	f := fields{
		elapsed: units.FormatDuration(t.Elapsed.Round(time.Second)) + "/" + units.FormatDuration(t.Total),
		stage:   fmt.Sprintf("stage %d/%d", t.Stage, t.Stages),
		load:    fmt.Sprintf("%d users", t.Users),
		reqs:    fmt.Sprintf("%d req/s", t.Second.Requests),
		p50:     "p50 " + latency(t.Second.P50),
		p95:     "p95 " + latency(t.Second.P95),
		fails:   fmt.Sprintf("%d fail/s", t.Second.Failures),
		failing: t.Second.Failures > 0,
		totals:  fmt.Sprintf("%d requests, %d failed", t.Requests, t.Failures),
	}
	if t.Model == lang.Open {
		f.load = trim(t.Rate) + "/s target"
		f.inFlight = fmt.Sprintf(", %d in flight", t.InFlight)
	}
	if t.Total > 0 {
		f.frac = min(1, float64(t.Elapsed)/float64(t.Total))
	}
	return f
}

// render writes the line a view shows: the bar, where the run is, then
// groups apart by " · ".
func (f fields) render(v view, color bool) string {
	var head []string
	if v.bar > 0 {
		filled := int(f.frac * float64(v.bar))
		head = append(head, strings.Repeat("█", filled)+strings.Repeat("░", v.bar-filled))
	}
	head = append(head, f.elapsed)
	if v.stage {
		head = append(head, f.stage)
	}
	groups := []string{strings.Join(head, " ")}
	if v.load {
		load := f.load
		if v.inFlight {
			load += f.inFlight
		}
		groups = append(groups, load)
	}
	if v.reqs {
		groups = append(groups, f.reqs)
	}
	switch {
	case v.p50 && v.p95:
		groups = append(groups, f.p50+" "+f.p95)
	case v.p95:
		groups = append(groups, f.p95)
	}
	if v.fails {
		fails := f.fails
		if color && f.failing {
			fails = "\x1b[31m" + fails + "\x1b[0m"
		}
		groups = append(groups, fails)
	}
	if v.totals {
		groups = append(groups, f.totals)
	}
	return strings.Join(groups, " · ")
}

// views lists the line from the full one to the tersest, each hiding one
// more part (or one more cell of the bar) than the one before, so a
// narrower terminal never shows a part a wider one hid. The least useful
// go first: the run's totals (printed at the end anyway), the median, half
// the bar, the open model's in-flight count, the stage, the rest of the
// bar, the load, p95, throughput; what remains is where the run is and its
// failures per second.
func views() []view {
	v := view{bar: barCells, stage: true, load: true, inFlight: true, p95: true, p50: true, reqs: true, fails: true, totals: true}
	out := []view{v}
	step := func(change func(*view)) {
		change(&v)
		out = append(out, v)
	}
	step(func(v *view) { v.totals = false })
	step(func(v *view) { v.p50 = false })
	for v.bar > barCells/2 {
		step(func(v *view) { v.bar-- })
	}
	step(func(v *view) { v.inFlight = false })
	step(func(v *view) { v.stage = false })
	for v.bar > 5 {
		step(func(v *view) { v.bar-- })
	}
	step(func(v *view) { v.bar = 0 }) // a bar of under 5 cells says nothing
	step(func(v *view) { v.load = false })
	step(func(v *view) { v.p95 = false })
	step(func(v *view) { v.reqs = false })
	return out
}

var allViews = views()

// Line renders one tick in full: bar, elapsed/total, stage, users or rate,
// throughput, p50/p95 of the last second, failures per second and the
// totals so far.
func Line(t engine.Tick, color bool) string {
	return newFields(t).render(allViews[0], color)
}

// Fit renders one tick in at most width cells: the fullest view that fits;
// when not even the tersest does, its first width cells, without colour.
func Fit(t engine.Tick, color bool, width int) string {
	f := newFields(t)
	for _, v := range allViews {
		if s := f.render(v, color); Cells(s) <= width {
			return s
		}
	}
	return cut(f.render(allViews[len(allViews)-1], false), width)
}

// Cells is how many terminal cells s takes: one per rune, none for colour
// escapes (ESC [ … letter). The line holds ASCII, "·", "█" and "░", all
// one cell wide.
func Cells(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == '\x1b' {
			i = skipEscape(s, i)
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// skipEscape returns where the escape sequence at s[i] ends.
func skipEscape(s string, i int) int {
	i++
	if i < len(s) && s[i] == '[' {
		i++
		for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
			i++
		}
	}
	return i + 1
}

// cut keeps the first n cells of plain s, never splitting a rune.
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

func latency(us int64) string {
	if us == 0 {
		return "-"
	}
	return units.FormatLatency(float64(us))
}

func trim(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}
