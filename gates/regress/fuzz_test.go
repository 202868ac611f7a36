package regress

import (
	"testing"
)

// FuzzCompare builds arbitrary windows for two requests: Compare returns an
// error or a report whose every result has a verdict and a reason.
func FuzzCompare(f *testing.F) {
	f.Add([]byte{10, 1, 0, 0, 9, 9, 20, 3, 0, 1, 1, 1}, uint8(0))
	f.Add(make([]byte, 240), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, flags uint8) {
		series := func(data []byte) *Series {
			s := &Series{ErrorClasses: map[string]int64{}, SlowKnown: flags&64 == 0}
			if len(data) > 0 {
				s.P95 = float64(data[0]) * 100
				s.Median = float64(data[0]) * 60
				if flags&128 != 0 {
					s.BulkAbove = BulkLimit(s.Median, 0.1)
				}
			}
			for i := 0; i+4 <= len(data); i += 4 {
				count := int64(data[i]) * 7
				errs := min(count, int64(data[i+1]))
				s.Windows = append(s.Windows, Window{
					Count: count, Errors: errs, Timeouts: errs / 2,
					Scheduled: count + int64(data[i+2]%3), Unsent: int64(data[i+2] % 2),
					Slow: min(count, int64(data[i+3])), Bulk: min(count, int64(data[i+3])*3), Seconds: 10,
				})
				s.ErrorClasses[string(rune('a'+data[i+3]%4))] += errs
			}
			return s
		}
		half := len(data) / 2
		model := Closed
		if flags&1 != 0 {
			model = Open
		}
		in := Input{
			Baseline: RunInfo{Model: model, Saturated: flags&2 != 0},
			Current:  RunInfo{Model: model},
			Requests: []Request{
				{Name: "GET /a", Baseline: series(data[:half]), Current: series(data[half:])},
				{Name: "GET /b", Baseline: series(data[half:]), Current: series(data[:half]),
					Thresholds: Thresholds{P95Growth: float64(flags>>2&15) / 10}},
			},
		}
		rep, err := Compare(in)
		if err != nil {
			return
		}
		for _, r := range rep.Results {
			if r.Reason == "" || r.Verdict.severity() == 0 && r.Verdict != Pass {
				t.Fatalf("result without verdict or reason: %+v", r)
			}
		}
	})
}
