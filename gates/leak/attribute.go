package leak

import (
	"fmt"
	"math"
	"slices"

	"lab/gates/stats"
	"lab/lang"
	"lab/lang/units"
	"lab/runtime/result"
)

// Which request leaks, told by pulses (`lab hunt`, docs/STATISTICS.md
// "Which request leaks"). One run with a steady mix cannot tell: the names'
// counts move together. So each unit of the workload is sent alone for a
// short pulse, and the memory's growth per request of the pulse is read. A
// sequence cannot be cut to one step (checkout needs a cart), so its units
// are its prefixes: the pulse up to the step that first sends a name, less
// what the names before it leak per request in that same pulse, over the
// count of that name. Rounds of every pulse, interleaved, give each figure
// a spread that holds whatever the target's noise (GC, sawtooth, drift):
// Student's t over the rounds, not a fit's own interval over autocorrelated
// samples.

// AttributionConfidence is the two-sided confidence of each figure's
// interval: one name in a hundred may be called leaking by chance at most.
const AttributionConfidence = 0.99

// MinRounds is the fewest rounds whose spread is worth an interval.
const MinRounds = 3

// pulseSkip is the share of a pulse's start left out: connections and
// pools fill as the pulse starts.
const pulseSkip = 0.1

// minPulsePoints is the fewest fresh readings a pulse's slope is fitted
// to: two give a slope, and the rounds, not the fit, give its spread.
const minPulsePoints = 2

// PulseReadings is how many fresh readings a pulse goes on for, past its
// length and up to MaxPulseStretch times it: a live heap changes only when
// the target collects, and a large heap collects seldom under light load.
const PulseReadings = 3

// MaxPulseStretch bounds how far a pulse is stretched for its readings.
const MaxPulseStretch = 4

// PulsePoints is how many readings of a pulse its growth would rest on
// (see pulseSlope): what a pulse in progress waits for.
func PulsePoints(samples []result.MemorySample, live bool) int {
	_, n := pulseSlope(samples, live)
	return n
}

// Unit is one pulse's worth of the workload and the request name its
// figure is of: the first step of its task that sends Name (with the steps
// before it, which Known names).
type Unit struct {
	Pulse       lang.Pulse
	Class, Task string
	Name        string
	Known       []string // names before it in its sequence, attributed by earlier units
	chain       int      // units of one task share a chain
}

// Units lists the pulses that tell the workload's request names apart: a
// plain task is one; a sequence gives one per step that sends a name no
// earlier step of it sent. The start steps are in every pulse (users
// start) and are not attributed.
func Units(p *lang.Plan) []Unit {
	var out []Unit
	chain := 0
	for ci, c := range p.Workload.Users {
		for ti, t := range c.Tasks {
			var known []string
			for si, s := range t.Steps {
				if slices.Contains(known, s.Name) {
					continue
				}
				out = append(out, Unit{
					Pulse: lang.Pulse{Class: ci, Task: ti, Steps: si + 1},
					Class: c.Name, Task: t.Name, Name: s.Name,
					Known: slices.Clone(known), chain: chain,
				})
				known = append(known, s.Name)
			}
			chain++
		}
	}
	return out
}

// PulseRun is what one pulse measured: the memory read during it (AtS from
// the pulse's start, Requests completed by then) and the requests it
// completed and failed, by name.
type PulseRun struct {
	Samples []result.MemorySample
	Counts  map[string]int64
	Failed  map[string]int64
}

// Attribution is what the pulses tell: a row per unit.
type Attribution struct {
	Rows   []Row
	Rounds int
	// Told: some unit leaks and every other is told apart from it. Else
	// Why says what is missing.
	Told bool
	Why  string
}

// What a row says of its unit.
const (
	WordLeaks     = "leaks"
	WordNoLeak    = "no leak seen"
	WordCannotSay = "cannot tell"
)

// Row is one unit's figure: bytes kept per request of its name, with the
// interval over the rounds.
type Row struct {
	Unit
	PerRequest, Lo, Hi float64 // bytes per request; NaN when not measured
	Values             []float64
	Share              float64 // of the plan's growth per request, by the plan's mix; NaN when unknown
	Word               string
	Why                string
}

// Attribute tells each unit's leak per request from rounds of pulses
// (rounds[r][u] is unit u's pulse in round r). live says the memory is a
// Go live heap whose GC count is known: a reading no collection refreshed
// repeats an old one and is left out. shares (the plan's request shares)
// weigh each figure into its share of the plan's growth; nil leaves it out.
func Attribute(list []Unit, rounds [][]PulseRun, live bool, shares map[string]float64) Attribution {
	a := Attribution{Rounds: len(rounds), Rows: make([]Row, len(list))}
	notes := make([]string, len(list))
	for u := range list {
		a.Rows[u] = Row{Unit: list[u], PerRequest: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Share: math.NaN()}
	}
	for _, round := range rounds {
		leak := map[chainName]float64{} // bytes per request this round
		for u, unit := range list {
			if u >= len(round) {
				break
			}
			pr := round[u]
			v, why := pulseFigure(unit, pr, live, leak)
			if why != "" {
				notes[u] = why
				leak[chainName{unit.chain, unit.Name}] = math.NaN()
				continue
			}
			leak[chainName{unit.chain, unit.Name}] = v
			a.Rows[u].Values = append(a.Rows[u].Values, v)
		}
	}
	top := 0.0
	for u := range a.Rows {
		r := &a.Rows[u]
		if n := len(r.Values); n < MinRounds {
			r.Word = WordCannotSay
			r.Why = fmt.Sprintf("measured in %d of %d rounds (%d needed)", n, len(rounds), MinRounds)
			if notes[u] != "" {
				r.Why += ": " + notes[u]
			}
			continue
		}
		r.PerRequest, r.Lo, r.Hi = meanInterval(r.Values, AttributionConfidence)
		if r.Lo > 0 {
			r.Word = WordLeaks
			top = max(top, r.PerRequest)
		}
	}
	var total float64
	for _, r := range a.Rows {
		if r.Word == WordLeaks && shares != nil {
			total += r.PerRequest * shares[r.Name]
		}
	}
	leaking, unsure := 0, 0
	for u := range a.Rows {
		r := &a.Rows[u]
		switch {
		case r.Word == WordLeaks:
			leaking++
			if shares != nil && total > 0 {
				r.Share = r.PerRequest * shares[r.Name] / total
			}
		case r.Word == WordCannotSay:
			unsure++
		case top > 0 && r.Hi >= top/2:
			r.Word = WordCannotSay
			r.Why = fmt.Sprintf("no growth shown, but it may keep up to %s per request, half or more of what the leaking one does", units.FormatApproxSize(r.Hi, " "))
			unsure++
		default:
			r.Word = WordNoLeak
		}
	}
	switch {
	case unmeasured(a.Rows):
		a.Why = "no request could be measured; see why under the table"
	case leaking == 0:
		a.Why = "no pulse showed memory growing with its requests: the growth may come with time rather than requests, from the users' start steps, or be too small for pulses this short; run longer pulses or more rounds"
	case unsure > 0:
		a.Why = fmt.Sprintf("%d of %d units cannot be told apart from the leak; run longer pulses or more rounds", unsure, len(a.Rows))
	default:
		a.Told = true
	}
	return a
}

// unmeasured: no row has a figure.
func unmeasured(rows []Row) bool {
	for _, r := range rows {
		if !math.IsNaN(r.PerRequest) {
			return false
		}
	}
	return true
}

// chainName is a request name within one task's chain of units: the same
// name in two tasks is two figures.
type chainName struct {
	chain int
	name  string
}

// pulseFigure is one pulse's bytes per request of its unit's name: the
// slope of memory over completed requests times the requests completed,
// less what the names before it keep (leak, this round), over its count.
// why says what kept it from being measured.
func pulseFigure(u Unit, pr PulseRun, live bool, leak map[chainName]float64) (float64, string) {
	n := pr.Counts[u.Name]
	if n == 0 {
		return 0, "its pulse completed none of its requests"
	}
	if f := pr.Failed[u.Name]; 2*f > n {
		return 0, fmt.Sprintf("%d of its %d requests failed in a pulse", f, n)
	}
	slope, points := pulseSlope(pr.Samples, live)
	if points < minPulsePoints {
		return 0, fmt.Sprintf("a pulse held %d fresh memory readings (%d needed): the target collected garbage too seldom in it; raise --rate or --pulse", points, minPulsePoints)
	}
	var total int64
	for _, c := range pr.Counts {
		total += c
	}
	grown := slope * float64(total)
	for _, k := range u.Known {
		v, ok := leak[chainName{u.chain, k}]
		if !ok || math.IsNaN(v) {
			return 0, fmt.Sprintf("%s, before it in the sequence, was not measured", k)
		}
		grown -= v * float64(pr.Counts[k])
	}
	return grown / float64(n), ""
}

// pulseSlope is memory's growth per completed request in a pulse, after
// its first tenth, and how many readings it rests on. A live heap has no
// sawtooth but changes only when the target collects: its fresh readings
// (the GC count moved since the reading before) are fitted by Theil–Sen,
// each at the requests midway between the two readings, since the
// collection came between them; the first reading of a pulse is never
// fresh (its collection may be the pulse before's). A resident figure
// carries the GC sawtooth, which biases a fit over all readings by where
// the pulse cuts it: the troughs are compared instead, the least reading
// of the first third with the least of the last.
func pulseSlope(samples []result.MemorySample, live bool) (float64, int) {
	if len(samples) == 0 {
		return 0, 0
	}
	from := samples[0].AtS + pulseSkip*(samples[len(samples)-1].AtS-samples[0].AtS)
	if !live {
		var kept []result.MemorySample
		for _, s := range samples {
			if s.AtS >= from && s.Requests >= 0 {
				kept = append(kept, s)
			}
		}
		if len(kept) < minPulsePoints {
			return 0, len(kept)
		}
		return troughSlope(kept)
	}
	var x, y []float64
	for i := 1; i < len(samples); i++ {
		s, prev := samples[i], samples[i-1]
		if s.AtS < from || s.GCCycles == prev.GCCycles || s.Requests < 0 || prev.Requests < 0 {
			continue
		}
		x = append(x, float64(s.Requests+prev.Requests)/2)
		y = append(y, s.Bytes)
	}
	if len(x) < minPulsePoints {
		return 0, len(x)
	}
	line, err := stats.TheilSen(x, y)
	if err != nil {
		return 0, 0
	}
	return line.Slope, len(x)
}

// troughSlope compares the least reading of the first third of the
// readings' span with the least of the last third.
func troughSlope(kept []result.MemorySample) (float64, int) {
	t0, t1 := kept[0].AtS, kept[len(kept)-1].AtS
	third := (t1 - t0) / 3
	var first, last *result.MemorySample
	nFirst, nLast := 0, 0
	for i := range kept {
		s := &kept[i]
		switch {
		case s.AtS <= t0+third:
			nFirst++
			if first == nil || s.Bytes < first.Bytes {
				first = s
			}
		case s.AtS >= t1-third:
			nLast++
			if last == nil || s.Bytes < last.Bytes {
				last = s
			}
		}
	}
	if nFirst < 2 || nLast < 2 || last.Requests <= first.Requests {
		return 0, min(nFirst, nLast)
	}
	return (last.Bytes - first.Bytes) / float64(last.Requests-first.Requests), len(kept)
}

// meanInterval is the mean of v and Student's two-sided interval at
// confidence c.
func meanInterval(v []float64, c float64) (mean, lo, hi float64) {
	n := float64(len(v))
	for _, x := range v {
		mean += x
	}
	mean /= n
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	half := studentQuantile((1-c)/2, n-1) * math.Sqrt(ss/(n-1)/n)
	return mean, mean - half, mean + half
}

// studentQuantile is the t with P(T > t) = p for df degrees of freedom,
// by bisection on StudentSurvival (0 < p < ½).
func studentQuantile(p, df float64) float64 {
	lo, hi := 0.0, 1e6
	for range 200 {
		mid := (lo + hi) / 2
		if stats.StudentSurvival(mid, df) > p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
