package result

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes as result.json to Load, which lab gate,
// lab compare and lab report read runs with: nothing may panic; what loads
// has totals that add up, writes its CSV files, decodes or refuses its
// histograms cleanly, and loads again after being written back.
func FuzzLoad(f *testing.F) {
	good, err := json.Marshal(sampleRun(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2]) // a file cut short
	f.Add([]byte(`{"schema":"` + Schema + `"}`))
	f.Add([]byte(`{"schema":"` + Schema + `","requests":[null],"seconds":[{"t":-1}]}`))
	f.Add([]byte(`{"schema":"` + Schema + `","requests":[{"name":"GET /","count":-1,"hist":"AAAA"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "result.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		run, err := Load(dir)
		if err != nil {
			if run != nil {
				t.Fatal("Load returned a run with its error")
			}
			return
		}
		if err := run.Validate(); err != nil {
			t.Fatalf("Load passed a run that does not validate: %v", err)
		}
		for _, q := range run.Requests {
			for _, enc := range []string{q.Hist, q.SvcHist} {
				if h, err := Decode(enc); err == nil && h != nil {
					Summarize(h)
				}
			}
			for _, w := range q.Windows {
				if h, err := Decode(w.Hist); err == nil && h != nil {
					Summarize(h)
				}
			}
		}
		for _, csv := range []func(*Run) ([]byte, error){StatsCSV, HistoryCSV, FailuresCSV} {
			_, _ = csv(run)
		}
		_ = run.Duration()
		out := t.TempDir()
		if err := Write(out, run); err != nil {
			return // a run Write refuses (it validates too) is not an error here
		}
		if _, err := Load(out); err != nil {
			t.Fatalf("a run that loaded, once written, does not load: %v", err)
		}
	})
}
