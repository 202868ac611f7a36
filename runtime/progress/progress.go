// Package progress shows a run's progress in the terminal: a bar redrawn
// every second on a terminal, or a plain line every 10 seconds when the
// output is a file or CI, where a redrawn line would only make noise.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"lab/lang"
	"lab/lang/units"
	"lab/runtime"
)

// Printer prints ticks.
type Printer struct {
	w        io.Writer
	live     bool // redraw one line (a terminal)
	color    bool
	every    time.Duration
	mu       sync.Mutex
	last     time.Duration
	drawn    bool
	lastTick runtime.Tick
}

// New returns a printer to w; live redraws a bar every second, otherwise a
// line is printed every 10 s. color adds colour to a live bar.
func New(w io.Writer, live, color bool) *Printer {
	p := &Printer{w: w, live: live, color: color && live, every: 10 * time.Second}
	if live {
		p.every = time.Second
	}
	return p
}

// Tick is the engine's OnTick.
func (p *Printer) Tick(t runtime.Tick) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastTick = t
	if !p.live && t.Elapsed-p.last < p.every {
		return
	}
	p.last = t.Elapsed
	line := Line(t, p.color)
	if p.live {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// Done ends a live bar's line.
func (p *Printer) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// Line renders one tick: elapsed/total, stage, users or rate, throughput,
// p50/p95 of the last second and failures per second.
func Line(t runtime.Tick, color bool) string {
	const width = 20
	frac := 0.0
	if t.Total > 0 {
		frac = min(1, float64(t.Elapsed)/float64(t.Total))
	}
	filled := int(frac * width)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	load := fmt.Sprintf("%d users", t.Users)
	if t.Model == lang.Open {
		load = fmt.Sprintf("%s/s target, %d in flight", trim(t.Rate), t.InFlight)
	}
	fails := fmt.Sprintf("%d fail/s", t.Second.Failures)
	if color && t.Second.Failures > 0 {
		fails = "\x1b[31m" + fails + "\x1b[0m"
	}
	return fmt.Sprintf("%s %s/%s stage %d/%d · %s · %d req/s · p50 %s p95 %s · %s · %d requests, %d failed",
		bar, units.FormatDuration(t.Elapsed.Round(time.Second)), units.FormatDuration(t.Total),
		t.Stage, t.Stages, load, t.Second.Requests, latency(t.Second.P50), latency(t.Second.P95), fails, t.Requests, t.Failures)
}

func latency(us int64) string {
	if us == 0 {
		return "-"
	}
	return (time.Duration(us) * time.Microsecond).Round(10 * time.Microsecond).String()
}

func trim(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	return strings.TrimSuffix(s, ".0")
}
