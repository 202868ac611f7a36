// Package progress shows a run's progress in the terminal: a bar redrawn
// every second on a terminal, fitted to the terminal's width, or a plain
// line every 10 seconds when the output is a file or CI, where a redrawn
// line would only make noise.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"lab/runtime"
)

// Printer prints ticks.
type Printer struct {
	w        io.Writer
	live     bool // redraw one line (a terminal)
	color    bool
	width    func() int
	every    time.Duration
	mu       sync.Mutex
	last     time.Duration
	drawn    bool
	lastTick runtime.Tick
}

// New returns a printer to w; live redraws a bar every second, fitted to
// the columns width returns (asked at every tick, so a resized terminal is
// followed; nil means 80), otherwise a full line is printed every 10 s.
// color adds colour to a live bar.
func New(w io.Writer, live, color bool, width func() int) *Printer {
	if width == nil {
		width = func() int { return defaultWidth }
	}
	p := &Printer{w: w, live: live, color: color && live, width: width, every: 10 * time.Second}
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
	if p.live {
		// The last column stays empty: some terminals wrap as soon as it is
		// written, and a wrapped line can no longer be redrawn with \r.
		fmt.Fprintf(p.w, "\r\x1b[K%s", Fit(t, p.color, p.width()-1))
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, Line(t, false))
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
