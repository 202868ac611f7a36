package result

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"lab/runtime/atomicfile"
)

// DirFor is where a run of plan starting at start is stored under root:
// results/<plan>/<UTC timestamp>.
func DirFor(root, plan string, start time.Time) string {
	return filepath.Join(root, plan, start.UTC().Format("20060102T150405Z"))
}

// Write stores run in dir: result.json and the Locust-compatible CSV files,
// each written atomically, result.json last so that its presence means the
// run is whole.
func Write(dir string, run *Run) error {
	if err := run.Validate(); err != nil {
		return fmt.Errorf("the run's totals do not add up, not writing it: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := []struct {
		name string
		make func(*Run) ([]byte, error)
	}{
		{"stats.csv", StatsCSV},
		{"stats_history.csv", HistoryCSV},
		{"failures.csv", FailuresCSV},
		{"result.json", func(r *Run) ([]byte, error) { return json.MarshalIndent(r, "", " ") }},
	}
	for _, f := range files {
		data, err := f.make(run)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if err := atomicfile.Write(filepath.Join(dir, f.name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile stores one more file of a run (summary.md, junit.xml…) atomically.
func WriteFile(dir, name string, data []byte) error {
	return atomicfile.Write(filepath.Join(dir, name), data, 0o644)
}

// Link points <dir's parent>/latest at dir, atomically (a new link renamed
// over the old one).
func Link(dir string) error {
	parent := filepath.Dir(dir)
	tmp := filepath.Join(parent, ".latest.tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(dir), tmp); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(parent, "latest"))
}

// Load reads a stored run: dir is a run folder (or a `latest` link to one).
func Load(dir string) (*Run, error) {
	data, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s holds no result.json: not a lab run folder (or the run never finished writing)", dir)
		}
		return nil, err
	}
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return nil, fmt.Errorf("%s/result.json is not a whole lab run (cut short, or not JSON): %w", dir, err)
	}
	if run.Schema != Schema {
		return nil, fmt.Errorf("%s/result.json has schema %q; this lab reads %q", dir, run.Schema, Schema)
	}
	if err := run.Validate(); err != nil {
		return nil, fmt.Errorf("%s/result.json: the run's totals do not add up: %w", dir, err)
	}
	return &run, nil
}

// splitName splits "POST /checkout" into the Locust columns Type and Name.
func splitName(n string) (string, string) {
	m, rest, ok := strings.Cut(n, " ")
	if !ok {
		return "", n
	}
	return m, rest
}

var locustPercentiles = []float64{50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100}

func ms(us int64) string { return strconv.FormatFloat(float64(us)/1000, 'f', 2, 64) }

// Duration is the run's length in seconds (at least a millisecond).
func (r *Run) Duration() float64 {
	return max(r.End.Sub(r.Start).Seconds(), 0.001)
}

// StatsCSV is Locust's stats.csv: one row per request name and an
// Aggregated row. Times are in milliseconds.
func StatsCSV(r *Run) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	header := []string{"Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
		"Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s"}
	for _, p := range locustPercentiles {
		header = append(header, percentLabel(p))
	}
	w.Write(header)
	all := NewHist()
	var count, fails, bytesTotal int64
	row := func(typ, name string, h *hdrhistogram.Histogram, n, f, by int64) {
		rec := []string{typ, name, fmt.Sprint(n), fmt.Sprint(f)}
		if h.TotalCount() == 0 {
			rec = append(rec, "0", "0", "0", "0")
		} else {
			rec = append(rec, ms(h.ValueAtPercentile(50)), strconv.FormatFloat(h.Mean()/1000, 'f', 2, 64), ms(h.Min()), ms(h.Max()))
		}
		avgSize := 0.0
		if n > 0 {
			avgSize = float64(by) / float64(n)
		}
		d := r.Duration()
		rec = append(rec, strconv.FormatFloat(avgSize, 'f', 2, 64), strconv.FormatFloat(float64(n)/d, 'f', 2, 64), strconv.FormatFloat(float64(f)/d, 'f', 2, 64))
		for _, p := range locustPercentiles {
			if h.TotalCount() == 0 {
				rec = append(rec, "N/A")
			} else {
				rec = append(rec, ms(h.ValueAtPercentile(p)))
			}
		}
		w.Write(rec)
	}
	for _, q := range r.Requests {
		h, err := Decode(q.Hist)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.Name, err)
		}
		typ, name := splitName(q.Name)
		row(typ, name, h, q.Count, q.Failures, q.Bytes)
		if err := Merge(all, h); err != nil {
			return nil, err
		}
		count += q.Count
		fails += q.Failures
		bytesTotal += q.Bytes
	}
	row("", "Aggregated", all, count, fails, bytesTotal)
	w.Flush()
	return b.Bytes(), w.Error()
}

func percentLabel(p float64) string {
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}

// HistoryCSV is Locust's stats_history.csv: one Aggregated row per second.
// Per-second percentiles Locust has that lab does not keep per second are
// N/A; the Total columns are cumulative up to the end of each 10 s window.
func HistoryCSV(r *Run) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	header := []string{"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"}
	for _, p := range locustPercentiles {
		header = append(header, percentLabel(p))
	}
	header = append(header, "Total Request Count", "Total Failure Count", "Total Median Response Time",
		"Total Average Response Time", "Total Min Response Time", "Total Max Response Time", "Total Average Content Size")
	w.Write(header)

	// Cumulative histograms by window end, to fill the Total columns.
	type cum struct {
		end   int64
		h     *hdrhistogram.Histogram
		bytes int64
	}
	byWindow := map[int64]*hdrhistogram.Histogram{}
	bytesBy := map[int64]int64{}
	var starts []int64
	for _, q := range r.Requests {
		for _, win := range q.Windows {
			h, err := Decode(win.Hist)
			if err != nil {
				return nil, err
			}
			if byWindow[win.T] == nil {
				byWindow[win.T] = NewHist()
				starts = append(starts, win.T)
			}
			if err := Merge(byWindow[win.T], h); err != nil {
				return nil, err
			}
			bytesBy[win.T] += win.Bytes
		}
	}
	slices.Sort(starts)
	var cums []cum
	running := NewHist()
	var runningBytes int64
	for _, t := range starts {
		if err := Merge(running, byWindow[t]); err != nil {
			return nil, err
		}
		runningBytes += bytesBy[t]
		cums = append(cums, cum{end: t + int64(r.WindowS), h: running.Clone(), bytes: runningBytes})
	}
	var total, totalFail int64
	ci := -1
	for _, s := range r.Seconds {
		total += s.Requests
		totalFail += s.Failures
		for ci+1 < len(cums) && cums[ci+1].end <= s.T+1 {
			ci++
		}
		rec := []string{fmt.Sprint(s.T), fmt.Sprint(s.Users), "", "Aggregated", fmt.Sprint(s.Requests), fmt.Sprint(s.Failures)}
		for _, p := range locustPercentiles {
			switch {
			case s.Requests == 0:
				rec = append(rec, "N/A")
			case p == 50:
				rec = append(rec, ms(s.P50))
			case p == 95:
				rec = append(rec, ms(s.P95))
			case p == 99:
				rec = append(rec, ms(s.P99))
			case p == 100:
				rec = append(rec, ms(s.Max))
			default:
				rec = append(rec, "N/A")
			}
		}
		rec = append(rec, fmt.Sprint(total), fmt.Sprint(totalFail))
		if ci < 0 || cums[ci].h.TotalCount() == 0 {
			rec = append(rec, "N/A", "N/A", "N/A", "N/A", "N/A")
		} else {
			h := cums[ci].h
			rec = append(rec, ms(h.ValueAtPercentile(50)), strconv.FormatFloat(h.Mean()/1000, 'f', 2, 64), ms(h.Min()), ms(h.Max()),
				strconv.FormatFloat(float64(cums[ci].bytes)/float64(h.TotalCount()), 'f', 2, 64))
		}
		w.Write(rec)
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// FailuresCSV is Locust's failures.csv.
func FailuresCSV(r *Run) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"Method", "Name", "Error", "Occurrences"})
	for _, f := range r.Failures {
		typ, name := splitName(f.Name)
		w.Write([]string{typ, name, f.Reason, fmt.Sprint(f.Count)})
	}
	w.Flush()
	return b.Bytes(), w.Error()
}
