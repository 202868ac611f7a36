package tally

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lab/runtime/result"
)

// uniqueAndSummed checks that a request's windows and per-second counts
// each name an interval once and add up to its total.
func uniqueAndSummed(t *testing.T, q *result.Request) {
	t.Helper()
	var win, sec int64
	seenW, seenS := map[int64]bool{}, map[int]bool{}
	for _, w := range q.Windows {
		if seenW[w.T] {
			t.Errorf("%s: window %d appears twice: a closed window was reopened", q.Name, w.T)
		}
		seenW[w.T] = true
		win += w.Count
	}
	for _, s := range q.PerSec {
		if seenS[s[0]] {
			t.Errorf("%s: second %d appears twice: a closed second was reopened", q.Name, s[0])
		}
		seenS[s[0]] = true
		sec += int64(s[1])
	}
	if win != q.Count || sec != q.Count {
		t.Errorf("%s: windows sum to %d, seconds to %d, total %d", q.Name, win, sec, q.Count)
	}
}

// An outcome stamped before a second (and a window) closed but recorded
// after, through a shard that had recorded nothing yet, must not open a
// second entry for the closed second or window: it counts in the open
// one, and as late.
func TestLateOutcomeOnAnUnusedShardDoesNotReopen(t *testing.T) {
	start := time.Unix(1_800_000_000, 0) // on a window boundary
	r := NewRecorder([]string{"GET /"}, start, 8)
	rec := func(shard int, at time.Duration) {
		r.Record(shard, &Outcome{At: at, Response: time.Millisecond, Service: time.Millisecond})
	}
	var secs []SecondStats
	var wins []WindowStats
	collect := func(now time.Duration, final bool) {
		s, w := r.Collect(now, final)
		secs, wins = append(secs, s...), append(wins, w...)
	}
	rec(0, 500*time.Millisecond)
	rec(0, 9500*time.Millisecond)
	collect(10100*time.Millisecond, false) // closes seconds 0…9 and window 0
	rec(5, 9900*time.Millisecond)          // late: finished in second 9, window 0
	rec(0, 10500*time.Millisecond)
	collect(11100*time.Millisecond, false)
	collect(11100*time.Millisecond, true)

	reqs, _ := r.Results()
	q := reqs[0]
	uniqueAndSummed(t, q)
	if q.Count != 4 {
		t.Errorf("count %d, want 4", q.Count)
	}
	if q.Late != 1 {
		t.Errorf("late %d, want 1", q.Late)
	}
	seen := map[int64]bool{}
	for _, s := range secs {
		if seen[s.T] {
			t.Errorf("second %d handed out twice", s.T)
		}
		seen[s.T] = true
	}
	seenW := map[int64]bool{}
	for _, w := range wins {
		if seenW[w.T] {
			t.Errorf("window %d handed out twice", w.T)
		}
		seenW[w.T] = true
	}
}

// Many goroutines record outcomes stamped a little before they record them
// (as a request finishing just before a boundary does), while the collector
// closes seconds and windows: every outcome is counted once, no second or
// window is handed out twice, and the late ones are counted. Run with -race.
func TestConcurrentLateOutcomes(t *testing.T) {
	start := time.Now().Add(-time.Hour).Truncate(Window).Add(9 * time.Second)
	const shards = 64
	r := NewRecorder([]string{"GET /a", "GET /b"}, start, shards)
	var clock atomic.Int64     // the run's clock, in ns since start
	var collected atomic.Int64 // the clock at the collector's last Collect
	const perWorker = 4000
	const workers = 8
	var wg sync.WaitGroup
	var secMu sync.Mutex
	secSeen := map[int64]int{}
	stop := make(chan struct{})
	var collector sync.WaitGroup
	collector.Add(1)
	go func() {
		defer collector.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			now := clock.Load()
			s, _ := r.Collect(time.Duration(now), false)
			collected.Store(now)
			secMu.Lock()
			for _, x := range s {
				secSeen[x.T]++
			}
			secMu.Unlock()
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				// Each outcome advances the clock by 1 ms and is stamped up
				// to 300 ms in the past. Every 500 outcomes a worker moves
				// to a shard nobody has used yet, and its first outcome
				// there is stamped in the second before last.
				// The collector keeps up, as the engine's does once a second.
				for clock.Load()-collected.Load() > int64(300*time.Millisecond) {
					goruntime.Gosched()
				}
				now := time.Duration(clock.Add(int64(time.Millisecond)))
				at := now - time.Duration(i%300)*time.Millisecond
				if i%500 == 0 && now > 3*time.Second {
					at = now.Truncate(time.Second) - 2*time.Second + time.Millisecond
				}
				shard := (w + workers*(i/500)) % shards
				r.Record(shard, &Outcome{Name: i % 2, At: max(0, at), Response: time.Millisecond, Service: time.Millisecond})
			}
		}()
	}
	wg.Wait()
	close(stop)
	collector.Wait()
	end := time.Duration(clock.Load())
	s, _ := r.Collect(end, false)
	for _, x := range s {
		secSeen[x.T]++
	}
	s, _ = r.Collect(end, true)
	for _, x := range s {
		secSeen[x.T]++
	}
	for sec, n := range secSeen {
		if n > 1 {
			t.Errorf("second %d handed out %d times", sec, n)
		}
	}
	reqs, _ := r.Results()
	var total, late int64
	for _, q := range reqs {
		uniqueAndSummed(t, q)
		total += q.Count
		late += q.Late
	}
	if total != workers*perWorker {
		t.Errorf("%d outcomes counted, %d recorded", total, workers*perWorker)
	}
	if late == 0 {
		t.Errorf("no outcome counted late, though many were stamped before the second they were recorded in had closed")
	}
	t.Logf("%d of %d outcomes late", late, total)
}
