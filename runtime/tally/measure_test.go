package tally

import (
	"testing"
	"time"

	"lab/runtime/result"
)

// A measure's values go to the window of the moment they were taken, on
// the wall clock's 10 s grid; a value for a window already closed counts
// in the oldest open one, never in a closed one; only two windows stay
// open however long the run; the windows add up to the whole.
func TestMeasureWindows(t *testing.T) {
	m := NewMeasures([]string{"n"})
	t0 := time.Unix(1_800_000_000, 0) // on the grid
	for s := range 120 {              // 12 windows, 3 values a second
		for k := range 3 {
			m.Record(0, float64(k+1), t0.Add(time.Duration(s)*time.Second))
		}
		if open := len(m.acc[0].open); open > 2 {
			t.Fatalf("second %d: %d windows open", s, open)
		}
	}
	m.Record(0, 100, t0.Add(5*time.Second)) // late: window 0 is closed
	ms, err := m.Results()
	if err != nil {
		t.Fatal(err)
	}
	got := ms[0]
	if len(got.Windows) != 12 || got.Count != 361 {
		t.Fatalf("%d windows, %d values", len(got.Windows), got.Count)
	}
	var n int64
	for i, w := range got.Windows {
		if w.T != t0.Unix()+int64(10*i) {
			t.Errorf("window %d starts at %d", i, w.T)
		}
		want := int64(30)
		if i == 10 { // the oldest window open when the late value came
			want = 31
		}
		h, err := result.DecodeMeasure(w.Hist)
		if w.Count != want || err != nil || h.TotalCount() != want {
			t.Errorf("window %d holds %d values (its histogram %v, %v), want %d", i, w.Count, h, err, want)
		}
		n += w.Count
	}
	if n != got.Count {
		t.Errorf("windows hold %d of %d", n, got.Count)
	}
}
