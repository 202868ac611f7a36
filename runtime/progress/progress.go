// Package progress shows a run's progress in the terminal: a bar redrawn
// every second on a terminal, fitted to the terminal's width, or a plain
// line every 10 seconds when the output is a file or CI, where a redrawn
// line would only make noise.
package progress

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"

	"lab/runtime/engine"
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
	lastTick engine.Tick
	pending  []byte // a message's unfinished line (Log)
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
func (p *Printer) Tick(t engine.Tick) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastTick = t
	if !p.live && t.Elapsed-p.last < p.every {
		return
	}
	p.last = t.Elapsed
	if p.live {
		p.draw()
		return
	}
	fmt.Fprintln(p.w, Line(t, false))
}

// draw redraws the live line from the last tick.
func (p *Printer) draw() {
	// The last column stays empty: some terminals wrap as soon as it is
	// written, and a wrapped line can no longer be redrawn with \r.
	fmt.Fprintf(p.w, "\r\x1b[K%s", Fit(p.lastTick, p.color, p.width()-1))
	p.drawn = true
}

// Log returns a writer for messages printed during the run (a worker
// joined or lost): on a live printer each whole line replaces the progress
// line, which is drawn again below it, so a message never runs into it.
func (p *Printer) Log() io.Writer { return (*logWriter)(p) }

type logWriter Printer

func (l *logWriter) Write(b []byte) (int, error) {
	p := (*Printer)(l)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live {
		return p.w.Write(b)
	}
	p.pending = append(p.pending, b...)
	end := bytes.LastIndexByte(p.pending, '\n') + 1
	if end == 0 {
		return len(b), nil
	}
	if p.drawn {
		io.WriteString(p.w, "\r\x1b[K")
	}
	_, err := p.w.Write(p.pending[:end])
	p.pending = append(p.pending[:0], p.pending[end:]...)
	if p.drawn {
		p.draw()
	}
	return len(b), err
}

// Done ends a live bar's line, and prints what is left of a message.
func (p *Printer) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
	if len(p.pending) > 0 {
		fmt.Fprintf(p.w, "%s\n", p.pending)
		p.pending = nil
	}
}
