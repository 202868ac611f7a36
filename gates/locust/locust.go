// Package locust reads the CSV files Locust writes (--csv PREFIX:
// PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv) into a
// Run the gates can judge, so a Locust user can adopt lab's gates without
// changing generator.
//
// It takes what Locust's data supports and says what it does not, rather
// than fake it:
//   - whole-run percentiles come from stats.csv's percentile columns, as a
//     sla.Table: Locust rounds each response time (to 1 ms below 100 ms,
//     10 ms below 1 s, 100 ms below 10 s, 1 s above) and reports those
//     rounded times; a percentile it has no column for is judged only when
//     the neighbouring columns agree;
//   - there are no histograms, so the percentile of several requests
//     together (other than Locust's Aggregated row) and every per-window
//     percentile cannot be computed; the regression compare has no
//     per-window counts of slow requests to test, and compares the
//     whole-run p95s by the threshold alone;
//   - per-window counts exist only with --csv-full-history (per-request
//     rows in stats_history.csv); windowed error-rate and req/s budgets
//     need them;
//   - Locust records no generator saturation: the run is not known to be
//     valid, and the verdicts say so.
package locust

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"lab/gates/sla"
	"lab/runtime/result"
)

// Rounding says how Locust rounds response times, for the verdicts.
const Rounding = "Locust rounds response times to 1 ms below 100 ms, 10 ms below 1 s, 100 ms below 10 s"

// Quantum is the step (µs) Locust rounds a response time of us to
// (Rounding): a difference of one step between two of its figures may be
// no difference at all.
func Quantum(us float64) float64 {
	switch {
	case us < 100_000:
		return 1000
	case us < 1_000_000:
		return 10_000
	case us < 10_000_000:
		return 100_000
	}
	return 1_000_000
}

// FromLocust tells whether a Run was read from Locust's CSV files.
func FromLocust(run *result.Run) bool { return run.Extra["source"] == "locust" }

// Limits says what a Run read from Locust's CSV cannot support; the
// regression compare quotes it.
const Limits = "Locust's CSV has no histograms: p95s compared by the threshold alone, generator saturation unknown"

// Files are the three files of a PREFIX.
type Files struct {
	Stats, History, Failures string
}

// FilesFor finds the files of a prefix: PREFIX_stats.csv and its siblings
// (Locust's names), or stats.csv and its siblings inside PREFIX when it is
// a folder (the Locust-compatible files of a lab run).
func FilesFor(prefix string) (Files, error) {
	f := Files{prefix + "_stats.csv", prefix + "_stats_history.csv", prefix + "_failures.csv"}
	if _, err := os.Stat(f.Stats); err == nil {
		return f, nil
	}
	if st, err := os.Stat(prefix); err == nil && st.IsDir() {
		d := Files{filepath.Join(prefix, "stats.csv"), filepath.Join(prefix, "stats_history.csv"), filepath.Join(prefix, "failures.csv")}
		if _, err := os.Stat(d.Stats); err == nil {
			return d, nil
		}
	}
	return f, fmt.Errorf("no Locust CSV at %s: %s not found (give the --csv PREFIX Locust wrote, without _stats.csv)", prefix, f.Stats)
}

// Load reads a prefix's files into a Run and the whole-run percentile
// table. The history and failures files are optional.
func Load(prefix string) (*result.Run, *sla.Table, error) {
	files, err := FilesFor(prefix)
	if err != nil {
		return nil, nil, err
	}
	stats, err := readCSV(files.Stats)
	if err != nil {
		return nil, nil, err
	}
	var history, failures [][]string
	if history, err = readCSV(files.History); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	if failures, err = readCSV(files.Failures); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	return build(prefix, files, stats, history, failures)
}

func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s is empty: not a file Locust wrote", path)
	}
	return rows, nil
}

// header maps column names to indexes and checks the required ones.
type header map[string]int

func newHeader(path string, row []string, need ...string) (header, error) {
	h := header{}
	for i, c := range row {
		h[strings.TrimSpace(c)] = i
	}
	for _, n := range need {
		if _, ok := h[n]; !ok {
			return nil, fmt.Errorf("%s has no %q column: not a file Locust wrote (columns: %s)", path, n, strings.Join(row, ", "))
		}
	}
	return h, nil
}

func (h header) get(row []string, col string) (string, bool) {
	i, ok := h[col]
	if !ok || i >= len(row) {
		return "", false
	}
	return strings.TrimSpace(row[i]), true
}

func (h header) num(path string, line int, row []string, col string) (float64, error) {
	s, ok := h.get(row, col)
	if !ok {
		return 0, fmt.Errorf("%s:%d: no %q value", path, line, col)
	}
	if s == "N/A" || s == "" {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%s:%d: %q is %q, not a number", path, line, col, s)
	}
	return v, nil
}

// percentileColumns are the "50%" … "100%" columns a header has, ascending.
func percentileColumns(h header) []float64 {
	var ps []float64
	for c := range h {
		if p, ok := strings.CutSuffix(c, "%"); ok {
			if v, err := strconv.ParseFloat(p, 64); err == nil && v > 0 && v <= 100 {
				ps = append(ps, v)
			}
		}
	}
	slices.Sort(ps)
	return ps
}

func pctCol(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

func name(method, n string) string {
	if method == "" {
		return n
	}
	return method + " " + n
}

func build(prefix string, files Files, stats, history, failures [][]string) (*result.Run, *sla.Table, error) {
	h, err := newHeader(files.Stats, stats[0], "Type", "Name", "Request Count", "Failure Count", "Max Response Time", "Requests/s")
	if err != nil {
		return nil, nil, err
	}
	run := &result.Run{
		Schema: result.Schema, Plan: result.PlanInfo{Name: filepath.Base(prefix), File: files.Stats},
		Status: result.Complete, Model: "closed", WindowS: 10, Workers: 1,
		Seconds: []result.Second{}, Failures: []result.Failure{},
		Extra: map[string]any{"source": "locust", "limits": Limits},
	}
	table := &sla.Table{Source: "Locust's stats.csv", Note: Rounding, Rows: map[string][]sla.Point{}}
	ps := percentileColumns(h)
	var aggCount, aggRPS float64
	for i, row := range stats[1:] {
		line := i + 2
		method, _ := h.get(row, "Type")
		n, _ := h.get(row, "Name")
		count, err := h.num(files.Stats, line, row, "Request Count")
		if err != nil {
			return nil, nil, err
		}
		fails, err := h.num(files.Stats, line, row, "Failure Count")
		if err != nil {
			return nil, nil, err
		}
		if math.IsNaN(count) || math.IsNaN(fails) || fails > count {
			return nil, nil, fmt.Errorf("%s:%d: request count %v and failure count %v do not add up", files.Stats, line, count, fails)
		}
		var points []sla.Point
		for _, p := range ps {
			v, err := h.num(files.Stats, line, row, pctCol(p))
			if err != nil {
				return nil, nil, err
			}
			if !math.IsNaN(v) && p < 100 {
				points = append(points, sla.Point{P: p, US: 1000 * v})
			}
		}
		if mx, err := h.num(files.Stats, line, row, "Max Response Time"); err == nil && !math.IsNaN(mx) && count > 0 {
			points = append(points, sla.Point{P: 100, US: math.Round(1000 * mx)})
		}
		if method == "" && n == "Aggregated" {
			aggCount = count
			aggRPS, _ = h.num(files.Stats, line, row, "Requests/s")
			if count > 0 {
				table.Rows["all"] = points
			}
			continue
		}
		q := &result.Request{Name: name(method, n), Count: int64(count), Failures: int64(fails)}
		q.Response = summary(h, files.Stats, line, row, q.Count)
		if count > 0 {
			table.Rows[q.Name] = points
		}
		run.Requests = append(run.Requests, q)
	}
	if len(run.Requests) == 0 {
		return nil, nil, fmt.Errorf("%s lists no requests", files.Stats)
	}
	// The run's length is Locust's own denominator of Requests/s.
	duration := 0.0
	if aggRPS > 0 && !math.IsNaN(aggRPS) {
		duration = aggCount / aggRPS
	}
	start := time.Time{}
	if len(history) > 1 {
		if err := fromHistory(run, files.History, history, &start, &duration); err != nil {
			return nil, nil, err
		}
	}
	if start.IsZero() {
		st, err := os.Stat(files.Stats)
		if err == nil {
			start = st.ModTime().Add(-time.Duration(duration * float64(time.Second)))
		}
	}
	if duration < 0 || duration > sla.MaxSpan.Seconds() || math.IsNaN(duration) {
		return nil, nil, fmt.Errorf("%s: %v requests at %v/s make a run of %.0f s: not a run Locust wrote", files.Stats, aggCount, aggRPS, duration)
	}
	run.Start = start.UTC()
	run.End = start.Add(time.Duration(duration * float64(time.Second))).UTC()
	if len(failures) > 1 {
		fh, err := newHeader(files.Failures, failures[0], "Method", "Name", "Error", "Occurrences")
		if err != nil {
			return nil, nil, err
		}
		for i, row := range failures[1:] {
			m, _ := fh.get(row, "Method")
			n, _ := fh.get(row, "Name")
			e, _ := fh.get(row, "Error")
			c, err := fh.num(files.Failures, i+2, row, "Occurrences")
			if err != nil || math.IsNaN(c) {
				return nil, nil, fmt.Errorf("%s:%d: bad occurrences", files.Failures, i+2)
			}
			run.Failures = append(run.Failures, result.Failure{Name: name(m, n), Reason: e, Count: int64(c)})
		}
	}
	return run, table, nil
}

// summary fills what stats.csv has of a request's latency summary, in µs.
func summary(h header, path string, line int, row []string, count int64) result.Summary {
	us := func(col string) int64 {
		v, err := h.num(path, line, row, col)
		if err != nil || math.IsNaN(v) {
			return 0
		}
		return int64(math.Round(1000 * v))
	}
	s := result.Summary{Count: count, Min: us("Min Response Time"), P50: us("50%"), P90: us("90%"), P95: us("95%"),
		P99: us("99%"), P999: us("99.9%"), Max: us("Max Response Time")}
	if v, err := h.num(path, line, row, "Average Response Time"); err == nil && !math.IsNaN(v) {
		s.Mean = 1000 * v
	}
	return s
}

// fromHistory reads stats_history.csv: the run's start and end from its
// timestamps, the run-wide series per second from the Aggregated rows, and
// per-request 10 s windows of counts from per-request rows (written with
// --csv-full-history) — differences of Locust's cumulative totals.
func fromHistory(run *result.Run, path string, rows [][]string, start *time.Time, duration *float64) error {
	h, err := newHeader(path, rows[0], "Timestamp", "Name", "Total Request Count", "Total Failure Count")
	if err != nil {
		return err
	}
	type point struct {
		t           int64
		count, fail int64
	}
	byName := map[string][]point{}
	var first, last int64 = math.MaxInt64, math.MinInt64
	for i, row := range rows[1:] {
		line := i + 2
		ts, err := h.num(path, line, row, "Timestamp")
		if err != nil || math.IsNaN(ts) {
			return fmt.Errorf("%s:%d: bad timestamp", path, line)
		}
		method, _ := h.get(row, "Type")
		n, _ := h.get(row, "Name")
		c, err1 := h.num(path, line, row, "Total Request Count")
		f, err2 := h.num(path, line, row, "Total Failure Count")
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if math.IsNaN(c) || math.IsNaN(f) {
			continue
		}
		t := int64(ts)
		first, last = min(first, t), max(last, t)
		key := name(method, n)
		if method == "" && n == "Aggregated" {
			key = ""
		}
		byName[key] = append(byName[key], point{t, int64(c), int64(f)})
	}
	if first > last {
		return nil
	}
	// Locust writes the first row a second after it starts, and its
	// Requests/s counts from the start to the last request.
	*start = time.Unix(first-1, 0)
	if *duration <= 0 {
		*duration = float64(last - first + 1)
	}
	var prev point
	for _, p := range byName[""] {
		run.Seconds = append(run.Seconds, result.Second{T: p.t, Requests: p.count - prev.count, Failures: p.fail - prev.fail})
		prev = p
	}
	for _, q := range run.Requests {
		pts := byName[q.Name]
		if len(pts) == 0 {
			continue
		}
		slices.SortStableFunc(pts, func(a, b point) int { return int(a.t - b.t) })
		// Cumulative totals at the end of each 10 s window (the last row
		// before it ends) give the window's counts.
		var prevC, prevF int64
		for i := 0; i < len(pts); {
			wt := pts[i].t - pts[i].t%10
			j := i
			for j+1 < len(pts) && pts[j+1].t < wt+10 {
				j++
			}
			c, f := pts[j].count-prevC, pts[j].fail-prevF
			if c > 0 {
				q.Windows = append(q.Windows, result.Window{T: wt, Count: c, Failures: max(0, min(f, c))})
			}
			prevC, prevF = pts[j].count, pts[j].fail
			i = j + 1
		}
	}
	return nil
}
