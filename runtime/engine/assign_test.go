package engine

import (
	"math"
	"testing"
	"time"

	"lab/lang"
)

// Every prefix of the class sequence — every point of a ramp — holds each
// class within one user of its exact share, and no class ever loses a user.
func TestClassSequencePrefixes(t *testing.T) {
	for _, weights := range [][]int{{3, 1}, {1, 1, 1}, {5, 3, 2}, {7, 0, 2}, {1}} {
		var users []*lang.UserClass
		total := 0
		for _, w := range weights {
			users = append(users, &lang.UserClass{Weight: w})
			total += w
		}
		seq := classSequence(users, 200)
		counts := make([]int, len(weights))
		for n, c := range seq {
			counts[c]++
			for i, w := range weights {
				exact := float64(n+1) * float64(w) / float64(total)
				if math.Abs(float64(counts[i])-exact) >= 1 {
					t.Fatalf("weights %v, %d users: class %d has %d, exact share %.2f", weights, n+1, i, counts[i], exact)
				}
			}
		}
	}
}

func TestClosedTarget(t *testing.T) {
	shape := &lang.Shape{Model: lang.Closed, Stages: []lang.Stage{
		{Start: 0, End: 10e9, Users: 20, SpawnRate: 5},
		{Start: 10e9, End: 20e9, Users: 200},                // at once
		{Start: 20e9, End: 40e9, Users: 100, SpawnRate: 10}, // down at 10/s
	}}
	for _, c := range []struct {
		at   float64 // seconds
		want int
	}{{0, 0}, {1, 5}, {3.9, 19}, {4, 20}, {9.9, 20}, {10, 200}, {20, 200}, {25, 150}, {29.99, 101}, {30, 100}, {39, 100}} {
		if got := closedTarget(shape, durationS(c.at)); got != c.want {
			t.Errorf("at %vs: %d users, want %d", c.at, got, c.want)
		}
	}
}

func TestArrivalSchedule(t *testing.T) {
	shape := &lang.Shape{Model: lang.Open, Stages: []lang.Stage{
		{Start: 0, End: 10e9, Rate: 100},
		{Start: 10e9, End: 20e9, Rate: 300, Ramp: true}, // 100 → 300 linearly
	}}
	if n := arrivalsBy(shape, 20e9); math.Abs(n-(1000+2000)) > 1e-6 {
		t.Errorf("arrivals by 20 s: %v, want 3000", n)
	}
	for _, n := range []float64{0, 1, 999, 1000, 1500, 2999.5} {
		at, ok := arrivalTime(shape, n)
		if !ok {
			t.Fatalf("arrival %v past the end", n)
		}
		if back := arrivalsBy(shape, at); math.Abs(back-n) > 0.01 {
			t.Errorf("arrival %v at %v, but %v are due by then", n, at, back)
		}
	}
	if _, ok := arrivalTime(shape, 3000); ok {
		t.Error("arrival 3000 is past the end")
	}
	if r := rateAt(shape, 15e9); math.Abs(r-200) > 1e-9 {
		t.Errorf("rate at 15 s %v, want 200", r)
	}
}

func durationS(s float64) (d time.Duration) { return time.Duration(s * 1e9) }
