package live

import (
	"fmt"
	"slices"

	"lab/gates"
	"lab/gates/report"
	"lab/gates/verdict"
	"lab/runtime/result"
)

// View is what the page shows, as /api/state serves it (JSON).
type View struct {
	State    State   `json:"state"`
	Plan     string  `json:"plan"`
	File     string  `json:"file"`
	Shape    string  `json:"shape"`
	Model    string  `json:"model"`
	Stage    int     `json:"stage"`
	Stages   int     `json:"stages"`
	ElapsedS float64 `json:"elapsed_s"`
	TotalS   float64 `json:"total_s"`
	LeftS    float64 `json:"left_s"`
	Users    int     `json:"users"`
	Target   int     `json:"target"`
	Rate     float64 `json:"rate"`
	InFlight int     `json:"in_flight"`
	Workers  int     `json:"workers"`
	// WorkerList is each worker of a distributed run.
	WorkerList []result.Worker `json:"worker_list,omitempty"`
	Requests   int64           `json:"requests"`
	Failures   int64           `json:"failures"`
	Seconds    int             `json:"seconds"` // seconds drawn: all measured, but a first or last one the run barely covered
	Stopped    string          `json:"stopped,omitempty"`
	// Exit is the exit code the verdicts give: so far while running, the
	// command's once done.
	Exit     int              `json:"exit"`
	Dir      string           `json:"dir,omitempty"` // where the run was written, once done
	Verdicts []result.Verdict `json:"verdicts"`
	Failing  int              `json:"failing"` // verdicts that fail their gate
	Summary  string           `json:"summary"`
	Parts    report.Parts     `json:"parts"`
	Error    string           `json:"error,omitempty"` // the drawing failed: why
}

// snapshot is one drawing of the run: its verdicts and report parts.
type snapshot struct {
	verdicts []result.Verdict
	failing  int // verdicts that fail their gate
	exit     int
	summary  string
	parts    report.Parts
	err      string
}

// View draws the page as it is now; a drawing is reused until another
// second or window arrives.
func (p *Page) View() View {
	p.drawMu.Lock()
	defer p.drawMu.Unlock()
	p.mu.Lock()
	v := p.header()
	snap, fresh := p.drawn, p.drawn != nil && p.drawnFor == len(p.run.Seconds)
	memory, workers, done := p.memory, p.workers, p.state == Done
	judged := p.judged
	if judged != nil && judged.windows != p.windows {
		judged = nil
	}
	windows := p.windows
	var run *result.Run
	if !fresh {
		// The whole-run histograms are encoded only for judging: once a window.
		run = p.copyRun(judged == nil && !done)
	}
	p.mu.Unlock()
	if workers != nil && !done {
		v.WorkerList = workers()
	}
	if !fresh {
		if memory != nil && !done {
			run.Memory = memory()
		}
		if judged == nil && !done {
			judged = p.judge(run, windows)
		}
		snap = p.draw(run, judged, done)
		p.mu.Lock()
		if (p.state == Done) == done { // not finished meanwhile: the drawing holds
			p.drawn, p.drawnFor = snap, len(run.Seconds)
			if judged != nil && judged.windows == p.windows {
				p.judged = judged
			}
		}
		p.mu.Unlock()
	}
	v.Verdicts, v.Summary, v.Parts, v.Error, v.Failing = snap.verdicts, snap.summary, snap.parts, snap.err, snap.failing
	if !done {
		v.Exit = snap.exit
	}
	return v
}

// header is the view's figures that need no drawing (p.mu held).
func (p *Page) header() View {
	st, run := p.status, &p.run
	v := View{
		State: p.state, Plan: run.Plan.Name, File: run.Plan.File, Shape: run.Plan.Shape, Model: run.Model,
		Stage: st.Stage, Stages: st.Stages, ElapsedS: st.Elapsed.Seconds(), TotalS: st.Total.Seconds(),
		Users: st.Users, Target: st.Target, Rate: st.Rate, InFlight: st.InFlight, Workers: run.Workers,
		Seconds: report.DrawnSeconds(run), Stopped: p.stopped,
	}
	v.LeftS = max(0, v.TotalS-v.ElapsedS)
	for _, q := range run.Requests {
		v.Requests += q.Count
		v.Failures += q.Failures
	}
	if p.final != nil {
		v.Exit, v.Dir, v.LeftS = p.final.exit, p.final.dir, 0
		v.WorkerList = run.WorkerLog
	}
	return v
}

// copyRun is the run so far, safe to read once the lock is let go: the
// slices the collector appends to are cut at their length, each request's
// percentiles are taken from the windows merged so far, and with encode
// its whole-run histogram is encoded for the gates.
func (p *Page) copyRun(encode bool) *result.Run {
	run := p.run
	run.Seconds = run.Seconds[:len(run.Seconds):len(run.Seconds)]
	run.Failures = slices.Clone(run.Failures)
	run.Requests = make([]*result.Request, len(p.run.Requests))
	for i, q := range p.run.Requests {
		c := *q
		c.Windows = c.Windows[:len(c.Windows):len(c.Windows)]
		if i < len(p.hists) {
			c.Response = result.Summarize(p.hists[i])
			if encode {
				c.Hist, _ = result.Encode(p.hists[i])
			}
		}
		run.Requests[i] = &c
	}
	return &run
}

// judgement is the verdicts on the run so far, judged when the page was
// drawn after a window: judging reads every window so far, drawing only
// the seconds, so a long run is judged once per window, not per second.
type judgement struct {
	verdicts []result.Verdict
	err      string
	windows  int
}

func (p *Page) judge(run *result.Run, windows int) *judgement {
	j := &judgement{windows: windows}
	vs, err := gates.SoFar(p.plan, run)
	if err != nil {
		j.err = err.Error()
	}
	j.verdicts = vs
	return j
}

// draw renders the report's parts with the verdicts so far (or, once
// done, the final ones).
func (p *Page) draw(run *result.Run, j *judgement, done bool) *snapshot {
	s := &snapshot{}
	if done {
		s.verdicts = run.Verdicts
	} else {
		s.verdicts, s.err, run.Verdicts = j.verdicts, j.err, j.verdicts
	}
	s.exit = gates.ExitCode(s.verdicts)
	in := gates.ReportInput(p.plan, run, nil)
	in.Live, in.Exit = !done, s.exit
	parts, err := report.RenderParts(in)
	if err != nil && s.err == "" {
		s.err = err.Error()
	}
	s.parts = parts
	for _, v := range s.verdicts {
		if !verdict.OK(v.Outcome) {
			s.failing++
		}
	}
	s.summary = summary(s.verdicts, s.failing, s.exit, done)
	return s
}

// summary is the badge's text: the final one, or the verdicts so far
// (which need not be the end's: a budget failing now may hold by then).
func summary(vs []result.Verdict, bad, exit int, done bool) string {
	if done {
		return verdict.Summary(vs, exit)
	}
	switch {
	case len(vs) == 0:
		return "no budgets to judge"
	case bad == 0:
		return fmt.Sprintf("so far all %d budgets met", len(vs))
	}
	return fmt.Sprintf("so far %d of %d budgets not met", bad, len(vs))
}
