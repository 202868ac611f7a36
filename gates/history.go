package gates

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"lab/runtime/result"
)

// History is what earlier runs of the same plan say about run-to-run
// noise: per request name, each run's whole-run p95 (µs) and throughput
// (req/s), newest run first (the noise is measured on successive runs). With at least 10 runs, a regression threshold smaller than
// 3√2·σ̂ of their logs widens to it (docs/STATISTICS.md, "Regression
// compare"): two runs of an unchanged build on this runner differ that
// much anyway.
type History struct {
	Runs int
	P95  map[string][]float64
	RPS  map[string][]float64
}

// MaxHistory is how many of the newest runs a history reads.
const MaxHistory = 30

// runSummary is the part of result.json a history needs, so that reading a
// long run's file does not decode its histograms.
type runSummary struct {
	Plan      result.PlanInfo `json:"plan"`
	Build     string          `json:"build"`
	Status    result.Status   `json:"status"`
	Start     time.Time       `json:"start"`
	End       time.Time       `json:"end"`
	Generator struct {
		Saturated bool `json:"saturated"`
	} `json:"generator"`
	Requests []struct {
		Name     string `json:"name"`
		Count    int64  `json:"count"`
		Response struct {
			P95 int64 `json:"p95_us"`
		} `json:"response"`
	} `json:"requests"`
}

// LoadHistory reads the runs stored in dir (a results/<plan> folder: one
// sub-folder per run) that measure the runner's noise for this baseline:
// complete, valid runs of the same plan — the same sources, shape and
// variables — that started no later than the baseline, newest first, at
// most MaxHistory, leaving out the run folders in skip (the current run).
// Runs of another build of the plan (when both it and the baseline record
// their build, Run.Build), or at another rate, would pass their
// differences off as noise; runs newer than the baseline would let a
// regression that persists widen its own threshold until it passes. A
// baseline that does not record its plan (a Locust run) has no history.
func LoadHistory(dir string, baseline *result.Run, skip ...string) (*History, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	h := &History{P95: map[string][]float64{}, RPS: map[string][]float64{}}
	if baseline == nil || len(baseline.Plan.Sources) == 0 {
		return h, nil
	}
	skipped := map[string]bool{}
	for _, s := range skip {
		if p, err := filepath.EvalSymlinks(s); err == nil {
			skipped[p] = true
		}
	}
	seen := map[string]bool{}
	var runs []runSummary
	for _, e := range entries {
		path, err := filepath.EvalSymlinks(filepath.Join(dir, e.Name()))
		if err != nil || seen[path] || skipped[path] {
			continue
		}
		seen[path] = true // latest and baseline links name runs already listed
		data, err := os.ReadFile(filepath.Join(path, "result.json"))
		if err != nil {
			continue
		}
		var s runSummary
		if json.Unmarshal(data, &s) != nil || s.Status != result.Complete || s.Generator.Saturated || !s.End.After(s.Start) ||
			s.Start.After(baseline.Start) || !samePlan(s.Plan, baseline.Plan) || otherBuild(s.Build, baseline.Build) {
			continue
		}
		runs = append(runs, s)
	}
	slices.SortFunc(runs, func(a, b runSummary) int { return b.Start.Compare(a.Start) })
	runs = runs[:min(len(runs), MaxHistory)]
	h.Runs = len(runs)
	for _, s := range runs {
		secs := s.End.Sub(s.Start).Seconds()
		for _, q := range s.Requests {
			if q.Count == 0 || q.Response.P95 <= 0 {
				continue
			}
			h.P95[q.Name] = append(h.P95[q.Name], float64(q.Response.P95))
			h.RPS[q.Name] = append(h.RPS[q.Name], float64(q.Count)/secs)
		}
	}
	return h, nil
}

// otherBuild says a run's build label differs from the baseline's; a run
// or baseline that records none is not known to differ.
func otherBuild(run, baseline string) bool {
	return run != "" && baseline != "" && run != baseline
}

// samePlan says whether two runs ran the same plan: the same shape, the
// same variables, and the same source files (by name and text: where the
// plan was loaded from does not matter).
func samePlan(a, b result.PlanInfo) bool {
	return a.Shape == b.Shape && maps.Equal(a.Vars, b.Vars) && maps.Equal(byBase(a.Sources), byBase(b.Sources))
}

func byBase(sources map[string]string) map[string]string {
	out := make(map[string]string, len(sources))
	for p, text := range sources {
		out[filepath.Base(p)] = text
	}
	return out
}
