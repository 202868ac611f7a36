package progress

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"lab/lang"
)

// The parts of the line from the most important to the least: each must
// appear at a width no larger than the next one does.
var importance = []struct{ name, marker string }{
	{"elapsed", "30s/1m"},
	{"failures/s", "3 fail/s"},
	{"throughput", "450 req/s"},
	{"p95", "p95 45ms"},
	{"load", "200"},
	{"bar", "░"},
	{"stage", "stage 2/3"},
	{"p50", "p50 12ms"},
	{"totals", "9000 requests, 20 failed"},
}

func TestFitNeverExceedsTheWidth(t *testing.T) {
	for _, tk := range []bool{false, true} {
		ti := tick(30 * time.Second)
		if tk {
			ti.Model, ti.Rate, ti.InFlight = lang.Open, 200, 7
		}
		for w := 0; w <= 200; w++ {
			for _, color := range []bool{false, true} {
				s := Fit(ti, color, w)
				if Cells(s) > w || !utf8.ValidString(s) {
					t.Fatalf("open %v, width %d, colour %v: %d cells, valid UTF-8 %v: %q", tk, w, color, Cells(s), utf8.ValidString(s), s)
				}
				if w >= 20 && !strings.Contains(s, "30s/1m") {
					t.Errorf("width %d lost where the run is: %q", w, s)
				}
			}
		}
		if Fit(ti, true, 200) != Line(ti, true) {
			t.Errorf("200 columns do not show the whole line: %q", Fit(ti, true, 200))
		}
	}
}

func TestFitDropsTheLeastImportantFirst(t *testing.T) {
	for _, model := range []lang.Model{lang.Closed, lang.Open} {
		ti := tick(30 * time.Second)
		ti.Model, ti.Rate, ti.InFlight = model, 200, 7
		from := map[string]int{} // the narrowest width from which a part shows
		bar := 0
		for w := 200; w >= 20; w-- {
			s := Fit(ti, true, w)
			for _, p := range importance {
				if strings.Contains(s, p.marker) {
					if f, ok := from[p.name]; ok && f != w+1 {
						t.Errorf("%s: %s hidden at %d columns, shown again at %d: %q", model, p.name, f-1, w, s)
					}
					from[p.name] = w
				}
			}
			cells := strings.Count(s, "█") + strings.Count(s, "░")
			if w < 200 && cells > bar {
				t.Errorf("%s: the bar grows from %d to %d cells as the width shrinks to %d", model, bar, cells, w)
			}
			bar = cells
		}
		for i := 1; i < len(importance); i++ {
			a, b := importance[i-1], importance[i]
			if from[a.name] > from[b.name] {
				t.Errorf("%s: %s needs %d columns, the less important %s only %d", model, a.name, from[a.name], b.name, from[b.name])
			}
		}
		if from["totals"] <= 100 || from["failures/s"] > 20 {
			t.Errorf("%s: totals from %d columns, failures/s from %d", model, from["totals"], from["failures/s"])
		}
	}
}

func TestFitKeepsInFlightBeforeTheStageGoes(t *testing.T) {
	ti := tick(30 * time.Second)
	ti.Model, ti.Rate, ti.InFlight = lang.Open, 200, 7
	var sawInFlightGone bool
	for w := 200; w >= 20; w-- {
		s := Fit(ti, false, w)
		if !strings.Contains(s, "in flight") {
			sawInFlightGone = true
		} else if sawInFlightGone {
			t.Fatalf("in-flight count back at %d columns: %q", w, s)
		}
	}
	if !sawInFlightGone {
		t.Error("the in-flight count is never dropped")
	}
}

func TestCells(t *testing.T) {
	for s, want := range map[string]int{
		"":                           0,
		"abc":                        3,
		"██░░ · x":                   8,
		"\x1b[31m3 fail/s\x1b[0m":    8,
		"a\x1b[1;31mb\x1b[0mc\x1b[K": 3,
	} {
		if got := Cells(s); got != want {
			t.Errorf("Cells(%q) = %d, want %d", s, got, want)
		}
	}
	if got := cut("█░·x", 2); got != "█░" {
		t.Errorf("cut = %q", got)
	}
}

// A live printer asks for the width at every tick and fits each line to
// one column less, so a resized terminal is followed.
func TestLivePrinterFollowsTheWidth(t *testing.T) {
	widths := []int{120, 60, 40}
	calls := 0
	var b bytes.Buffer
	p := New(&b, true, true, func() int { w := widths[calls]; calls++; return w })
	for s := 1; s <= 3; s++ {
		p.Tick(tick(time.Duration(s) * time.Second))
	}
	p.Done()
	draws := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\r\x1b[K")[1:]
	if len(draws) != 3 {
		t.Fatalf("%d draws: %q", len(draws), b.String())
	}
	for i, d := range draws {
		if c := Cells(d); c > widths[i]-1 || c < widths[i]/2 {
			t.Errorf("draw %d at %d columns: %d cells: %q", i, widths[i], c, d)
		}
	}
}

func TestTermWidthFallsBack(t *testing.T) {
	env := map[string]string{}
	width := TermWidth(&bytes.Buffer{}, func(k string) string { return env[k] })
	if w := width(); w != 80 {
		t.Errorf("no terminal, no COLUMNS: %d", w)
	}
	env["COLUMNS"] = "132"
	if w := width(); w != 132 {
		t.Errorf("COLUMNS=132: %d", w)
	}
	env["COLUMNS"] = "wide"
	if w := width(); w != 80 {
		t.Errorf("COLUMNS=wide: %d", w)
	}
}

// screen plays what a terminal does with \r, ESC[K and \n, enough to see
// the rows a live printer leaves.
func screen(out string) []string {
	rows := []string{""}
	for i := 0; i < len(out); i++ {
		switch {
		case out[i] == '\r':
			// the next write starts the row again; ESC[K clears it
		case out[i] == '\n':
			rows = append(rows, "")
		case strings.HasPrefix(out[i:], "\x1b[K"):
			rows[len(rows)-1] = ""
			i += 2
		default:
			rows[len(rows)-1] += out[i : i+1]
		}
	}
	return rows
}

// A message logged during a live run takes the progress line's row, and
// the progress line is drawn again below it; a line written in pieces is
// printed once whole; what is left unfinished is printed at the end.
func TestLogDuringALiveLine(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, true, false, func() int { return 200 })
	log := p.Log()
	p.Tick(tick(time.Second))
	io.WriteString(log, "worker 2 ")
	io.WriteString(log, "lost\nworker 3 joined\nworker")
	p.Tick(tick(2 * time.Second))
	p.Done()
	got := screen(b.String())
	want := []string{"worker 2 lost", "worker 3 joined", Line(tick(2*time.Second), false), "worker", ""}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	b.Reset()
	plain := New(&b, false, false, nil)
	io.WriteString(plain.Log(), "worker 2 ")
	if b.String() != "worker 2 " {
		t.Errorf("a plain printer's log: %q", b.String())
	}
}
