package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"lab/gates/exitcode"
	"lab/gates/leak"
	"lab/lang"
	"lab/lang/units"
	"lab/runtime/atomicfile"
	"lab/runtime/engine"
	"lab/runtime/memory"
)

const huntAbout = `Find which request leaks. One run with a steady mix cannot tell: the
request names' counts move together, so every name would get the whole
growth. lab hunt sends each part of the workload alone, in short pulses,
reading the memory of the plan's leak block as it goes: a plain task alone,
a sequence cut after each step that sends a new name (checkout needs its
cart, so the cart's share is taken off). Rounds of every pulse, one after
another, give each figure an interval (99%, Student's t over the rounds).

It prints, per request name, the bytes kept per request with the interval,
its share of the plan's growth by the plan's own mix, and one of: leaks, no
leak seen, cannot tell (and why). The plan needs a leak block (its memory
source); the shop starts as lab apply starts it. The load goes only where the
plan's host says. The rule is in docs/STATISTICS.md ("Which request leaks").

Exit codes: 0 the leaking requests are told apart from the rest · 1 nothing
was seen growing, or some request cannot be told apart from the leak (run
longer pulses or more rounds) · 2 invalid plan or command line · 3 the
pulses could not be carried out.`

type huntOpts struct {
	apply  applyOpts // the target and memory source, as lab apply has them
	rate   float64   // passes per second in a pulse
	pulse  time.Duration
	rounds int
	warmup time.Duration
	out    string // JSON file of the attribution, "" for none
}

func runHunt(env *cmdEnv, args []string) error {
	o, err := parseHuntFlags(env, args)
	if err != nil {
		return err
	}
	ctx, stopSignals := stopOnSignals(env)
	defer stopSignals()
	return hunt(ctx, env, o)
}

func parseHuntFlags(env *cmdEnv, args []string) (*huntOpts, error) {
	fs := newFlags("hunt")
	var pf planFlags
	pf.register(fs)
	o := &huntOpts{}
	rate := fs.String("rate", "20/s", "passes per second in a pulse (each pass is one arrival, as in an open shape)")
	fs.DurationVar(&o.pulse, "pulse", 20*time.Second, "how long each pulse sends")
	fs.IntVar(&o.rounds, "rounds", 5, fmt.Sprintf("rounds of every pulse (at least %d): the spread between them makes each interval", leak.MinRounds))
	fs.DurationVar(&o.warmup, "warmup", 0, "the whole workload at the pulse rate first, left out (default: one pulse)")
	fs.StringVar(&o.out, "out", "", "also write the attribution to this JSON file")
	fs.BoolVar(&o.apply.noSUT, "no-sut", false, "do not start the plan's shop (it runs elsewhere)")
	fs.StringVar(&o.apply.sutContainer, "sut-container", "", "the shop runs in Docker container NAME (implies --no-sut): memory = sut.NAME is read through the Docker engine")
	fs.DurationVar(&o.apply.waitTarget, "wait-target", 0, "wait up to this long for the plan's host to take connections")
	fs.DurationVar(&o.apply.grace, "grace", 5*time.Second, "how long requests in flight may finish after a pulse")
	fs.BoolVar(&o.apply.quiet, "quiet", false, "no line per pulse")
	if err := parseFlags(env, fs, args, "lab hunt FILE [flags]", huntAbout); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		return nil, failf(exitcode.BadInput, "one plan file, please; got %d", fs.NArg())
	}
	var err error
	if o.rate, err = units.ParseCountRate(*rate); err != nil || o.rate <= 0 || o.rate > 100_000 {
		return nil, failf(exitcode.BadInput, "--rate %q: want passes per second, like 20/s (above 0, at most 100000/s)", *rate)
	}
	if o.pulse < time.Second || o.pulse > time.Hour {
		return nil, failf(exitcode.BadInput, "--pulse %v: want 1s to 1h", o.pulse)
	}
	if o.rounds < leak.MinRounds || o.rounds > 100 {
		return nil, failf(exitcode.BadInput, "--rounds %d: want %d to 100 (fewer rounds have no spread to make an interval of)", o.rounds, leak.MinRounds)
	}
	if o.warmup == 0 {
		o.warmup = o.pulse
	}
	if o.apply.plan, _, err = loadPlan(env, fs.Arg(0), pf.options(env)); err != nil {
		return nil, err
	}
	if o.apply.plan.Leak == nil {
		return nil, failf(exitcode.BadInput, "%s has no leak block: it names the memory to read (leak { memory = … }, docs/LANGUAGE.md)", fs.Arg(0))
	}
	o.apply.noSUT = o.apply.noSUT || o.apply.sutContainer != ""
	return o, nil
}

func hunt(ctx context.Context, env *cmdEnv, o *huntOpts) error {
	a := &o.apply
	target, err := startTarget(ctx, env, a)
	if err != nil {
		return err
	}
	defer target.stop()
	if err := waitForTarget(ctx, a); err != nil {
		return err
	}
	if err := runSetup(ctx, env, a); err != nil {
		return err
	}
	sampler, err := openMemory(ctx, a.leak(), target.info)
	if err != nil {
		return err
	}
	plan := a.plan
	list := leak.Units(plan)
	if len(list) == 0 {
		return failf(exitcode.BadInput, "the workload sends no request to attribute")
	}
	total := o.warmup + time.Duration(len(list)*o.rounds)*o.pulse
	fmt.Fprintf(env.stderr, "hunting which request leaks: %d pulses × %d rounds of %v at %s passes, after a %v warm-up: %v or more (a pulse goes on, up to %d× its length, until the memory was read fresh %d times) against %s\n",
		len(list), o.rounds, o.pulse, units.FormatCountRate(o.rate), o.warmup, total.Round(time.Second), leak.MaxPulseStretch, leak.PulseReadings, plan.Workload.Host)

	if _, err := pulse(ctx, a, sampler, plan.Pulsed(nil, o.rate, o.warmup), o.warmup); err != nil {
		return err
	}
	var rounds [][]leak.PulseRun
	interrupted := false
	for r := 0; r < o.rounds && !interrupted; r++ {
		var round []leak.PulseRun
		for i, u := range list {
			pr, err := pulse(ctx, a, sampler, plan.Pulsed(&u.Pulse, o.rate, leak.MaxPulseStretch*o.pulse), o.pulse)
			if err != nil {
				return err
			}
			if ctx.Err() != nil {
				interrupted = true
				break
			}
			round = append(round, pr)
			if !a.quiet {
				fmt.Fprintf(env.stderr, "round %d/%d, pulse %d/%d: %s (%s/%s, %d step(s)): %s\n",
					r+1, o.rounds, i+1, len(list), u.Name, u.Class, u.Task, u.Pulse.Steps, pulseText(pr))
			}
		}
		if !interrupted {
			rounds = append(rounds, round)
		}
	}
	shares, _ := plan.RequestShares()
	kind := sampler.Kind()
	att := leak.Attribute(list, rounds, kind == memory.KindHeapLive, shares)
	read := "memory read: " + leak.MemoryKind(kind) + " of " + sampler.Source()
	printAttribution(env.stdout, att, read)
	if o.out != "" {
		if err := writeAttribution(o.out, att, read); err != nil {
			return failf(exitcode.CouldNotRun, "writing %s: %v", o.out, err)
		}
	}
	switch {
	case interrupted:
		return failf(exitcode.Breach, "interrupted after %d of %d rounds: %s", len(rounds), o.rounds, att.Why)
	case !att.Told:
		return failf(exitcode.Breach, "%s", att.Why)
	}
	return nil
}

// pulse runs one cut of the plan for its length, and on (up to
// leak.MaxPulseStretch times it) until the memory was read fresh
// leak.PulseReadings times: a large live heap is collected, and so read,
// seldom under a light request.
func pulse(ctx context.Context, a *applyOpts, sampler memory.Sampler, p *lang.Plan, d time.Duration) (leak.PulseRun, error) {
	eng, err := engine.New(engine.Options{Plan: p, Grace: a.grace})
	if err != nil {
		return leak.PulseRun{}, failf(exitcode.CouldNotRun, "%v", err)
	}
	// Two readings a second at least: a pulse is short.
	every := max(min(memory.DefaultInterval, d/40), 100*time.Millisecond)
	start := time.Now()
	rec := memory.Record(ctx, sampler, start, every, eng.Completed)
	enough := make(chan struct{})
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-enough:
				return
			case <-tick.C:
			}
			live := sampler.Kind() == memory.KindHeapLive
			if time.Since(start) >= d && leak.PulsePoints(rec.Samples(), live) >= leak.PulseReadings {
				eng.Stop("the pulse read its memory enough")
				return
			}
		}
	}()
	run, err := eng.Run(ctx)
	close(enough)
	series := rec.Stop()
	if err != nil {
		return leak.PulseRun{}, failf(exitcode.CouldNotRun, "a pulse could not be sent: %v", err)
	}
	pr := leak.PulseRun{Samples: series.Samples, Counts: map[string]int64{}, Failed: map[string]int64{}}
	for _, q := range run.Requests {
		pr.Counts[q.Name] = q.Count
		pr.Failed[q.Name] = q.Failures
	}
	return pr, nil
}

// pulseText is a pulse's requests and how much memory rose over it.
func pulseText(pr leak.PulseRun) string {
	var n, failed int64
	for name, c := range pr.Counts {
		n += c
		failed += pr.Failed[name]
	}
	s := fmt.Sprintf("%d requests", n)
	if k := len(pr.Samples); k > 0 {
		s += fmt.Sprintf(" in %.0fs", pr.Samples[k-1].AtS)
	}
	if failed > 0 {
		s += fmt.Sprintf(" (%d failed)", failed)
	}
	if k := len(pr.Samples); k >= 2 {
		s += ", memory " + units.FormatSignedSize(pr.Samples[k-1].Bytes-pr.Samples[0].Bytes, " ")
	}
	return s
}

// printAttribution is the table: a row per request name attributed.
func printAttribution(w io.Writer, a leak.Attribution, read string) {
	fmt.Fprintf(w, "Which request leaks (%d rounds; %s)\n\n", a.Rounds, read)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "request\tsent by\tper request\t99% interval\tshare\t")
	for _, r := range a.Rows {
		per, iv, share := "?", "?", "–"
		if !math.IsNaN(r.PerRequest) {
			per = units.FormatSignedSize(r.PerRequest, " ")
			iv = units.FormatSignedSize(r.Lo, " ") + " … " + units.FormatSignedSize(r.Hi, " ")
		}
		if !math.IsNaN(r.Share) {
			share = fmt.Sprintf("%.0f%%", 100*r.Share)
		}
		fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%s\t%s\n", r.Name, r.Class, r.Task, per, iv, share, r.Word)
	}
	tw.Flush()
	var notes []string
	for _, r := range a.Rows {
		if r.Why != "" {
			notes = append(notes, fmt.Sprintf("  %s (%s/%s): %s", r.Name, r.Class, r.Task, r.Why))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(notes, "\n"))
	}
}

// attributionJSON is the --out file: what the table says, in numbers.
type attributionJSON struct {
	Memory string    `json:"memory"`
	Rounds int       `json:"rounds"`
	Told   bool      `json:"told"`
	Why    string    `json:"why,omitempty"`
	Rows   []rowJSON `json:"rows"`
}

type rowJSON struct {
	Name       string    `json:"name"`
	Class      string    `json:"class"`
	Task       string    `json:"task"`
	Steps      int       `json:"steps"` // the pulse sent the task's first Steps steps
	PerRequest *float64  `json:"bytes_per_request"`
	Lo         *float64  `json:"lo"`
	Hi         *float64  `json:"hi"`
	Share      *float64  `json:"share,omitempty"`
	Values     []float64 `json:"rounds"`
	Word       string    `json:"says"`
	Why        string    `json:"why,omitempty"`
}

func writeAttribution(path string, a leak.Attribution, read string) error {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	j := attributionJSON{Memory: read, Rounds: a.Rounds, Told: a.Told, Why: a.Why}
	for _, r := range a.Rows {
		j.Rows = append(j.Rows, rowJSON{
			Name: r.Name, Class: r.Class, Task: r.Task, Steps: r.Pulse.Steps,
			PerRequest: num(r.PerRequest), Lo: num(r.Lo), Hi: num(r.Hi), Share: num(r.Share),
			Values: r.Values, Word: r.Word, Why: r.Why,
		})
	}
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o644)
}
