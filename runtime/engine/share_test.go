package engine

import (
	"slices"
	"testing"

	"lab/lang"
)

// Worker i of n takes arrivals i, i+n, i+2n…: together the workers take
// every arrival exactly once, evenly spaced.
func TestEvenSharePhaseOffsetsArrivals(t *testing.T) {
	for n := 1; n <= 5; n++ {
		owners := Even(n)
		seen := make([]int, 1000)
		for i := range n {
			o := &openRun{share: Share{Me: i, Owners: owners}}
			k := int64(0)
			for a := o.owned(0); a < 1000; a = o.owned(a + 1) {
				if a != int64(i)+k*int64(n) {
					t.Fatalf("n=%d worker %d: arrival %d, want %d", n, i, a, int64(i)+k*int64(n))
				}
				seen[a]++
				k++
			}
		}
		for a, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: arrival %d taken %d times", n, a, c)
			}
		}
	}
}

// A lost worker's slots go to the others evenly; no other slot moves.
func TestResplitDealsALostWorkersSlotsEvenly(t *testing.T) {
	owners := Even(4)
	out := Resplit(owners, []int{0, 1, 3})
	held := map[int]int{}
	for s, w := range out {
		held[w]++
		if owners[s] != 2 && out[s] != owners[s] {
			t.Errorf("slot %d moved from %d to %d", s, owners[s], out[s])
		}
	}
	if held[2] != 0 || held[0] != 16 || held[1] != 16 || held[3] != 16 {
		t.Errorf("held %v, want 16 each and none for the lost worker", held)
	}
	if Resplit(owners, nil) != nil {
		t.Error("no live worker should give no table")
	}
}

// A worker that joins late gets its even part, taken from the others.
func TestRebalanceGivesALateWorkerItsPart(t *testing.T) {
	owners := Even(3)
	out := Rebalance(owners, []int{0, 1, 2, 3}, 3)
	held := map[int]int{}
	for _, w := range out {
		held[w]++
	}
	if held[3] != 9 || held[0]+held[1]+held[2] != 27 || max(held[0], held[1], held[2])-min(held[0], held[1], held[2]) > 1 {
		t.Errorf("held %v, want 9 for the new worker and the rest even", held)
	}
	// It takes low slots too: the first users are in them.
	if out[3] != 3 {
		t.Errorf("slot 3 held by %d, want the new worker", out[3])
	}
}

// Every worker holds each class in proportion, to within one user, at
// every point of a ramp.
func TestUserSlotsKeepTheClassMixPerWorker(t *testing.T) {
	users := []*lang.UserClass{{Name: "browser", Weight: 3}, {Name: "buyer", Weight: 1}}
	classes := classSequence(users, 200)
	slots := userSlots(classes)
	e := &Engine{}
	for _, n := range []int{2, 3, 4} {
		for _, target := range []int{8, 40, 199} {
			perClass := make([][]int, len(users)) // class → worker → users
			for k := range perClass {
				perClass[k] = make([]int, n)
			}
			for w := range n {
				for _, g := range e.mine(slots, Share{Me: w, Owners: Even(n)}) {
					if g <= int64(target) {
						perClass[classes[g-1]][w]++
					}
				}
			}
			for k, byWorker := range perClass {
				if slices.Max(byWorker)-slices.Min(byWorker) > 1 {
					t.Errorf("%d workers, %d users: class %s spread %v", n, target, users[k].Name, byWorker)
				}
			}
		}
	}
}
