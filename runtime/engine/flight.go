package engine

import (
	"sync"
	"time"

	"lab/lang/units"
	"lab/runtime/tally"
)

// Subtleness ahead: every request sent must end in the Run, answered,
// failed or cut off. When the grace period ends, requests still in flight
// are recorded as cut off, with their latency up to the cut; their real
// outcome, should it come later, is dropped. A flight is one sender's slot
// (an open-model executor, a closed-model worker): it holds the request
// the sender has on the wire, so that the end of the run can find it, and
// the sender's counts of requests started, per name, so that nothing is
// shared on the request path (its lock is the sender's own but at the cut).
type flight struct {
	mu   sync.Mutex
	busy bool          // a request is on the wire
	cut  bool          // the run is over: nothing more is sent or recorded
	name int           // the request on the wire
	from time.Duration // when it was due, or started
	sent []int64       // requests started, per name
	skip []int64       // requests skipped by their when, per name
	hops []int64       // redirects followed, per name
	// batch holds the flights of a batch's other steps (batchFlights),
	// the sender's own: used only by its goroutine and those it waits for.
	batch []*flight
}

// flights registers every sender's slot.
type flights struct {
	mu       sync.Mutex
	all      map[*flight]struct{}
	names    int
	gone     []int64 // requests started by senders that have left
	goneSkip []int64 // … and skipped
	goneHops []int64 // … and redirects followed
}

func newFlights(names int) *flights {
	return &flights{all: map[*flight]struct{}{}, names: names, gone: make([]int64, names), goneSkip: make([]int64, names), goneHops: make([]int64, names)}
}

// add registers a new sender's slot.
func (fs *flights) add() *flight {
	f := &flight{sent: make([]int64, fs.names), skip: make([]int64, fs.names), hops: make([]int64, fs.names)}
	fs.mu.Lock()
	fs.all[f] = struct{}{}
	fs.mu.Unlock()
	return f
}

// remove unregisters an idle sender's slot and its batch's, keeping
// their counts.
func (fs *flights) remove(f *flight) {
	fs.mu.Lock()
	for _, g := range append([]*flight{f}, f.batch...) {
		delete(fs.all, g)
		g.mu.Lock()
		for i, n := range g.sent {
			fs.gone[i] += n
			fs.goneSkip[i] += g.skip[i]
			fs.goneHops[i] += g.hops[i]
		}
		g.mu.Unlock()
	}
	fs.mu.Unlock()
}

// redirected counts a redirect followed by a request of name.
func (f *flight) redirected(name int) {
	f.mu.Lock()
	f.hops[name]++
	f.mu.Unlock()
}

// skipped counts a request of name that its when left unsent.
func (f *flight) skipped(name int) {
	f.mu.Lock()
	f.skip[name]++
	f.mu.Unlock()
}

// begin puts a request of name on the wire, timed from from; false when
// the run is over and nothing may be sent.
func (f *flight) begin(name int, from time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut {
		return false
	}
	f.busy, f.name, f.from = true, name, from
	f.sent[name]++
	return true
}

// finish claims the right to record the request's outcome; false when it
// was cut off meanwhile (its outcome is already recorded). A true finish
// holds the slot until done, so the cut waits for the outcome's record.
func (f *flight) finish() bool {
	f.mu.Lock()
	if f.cut {
		f.mu.Unlock()
		return false
	}
	f.busy = false
	return true
}

func (f *flight) done() { f.mu.Unlock() }

// cutOff ends every slot at at: a request still on the wire is recorded as
// a failure cut off when the grace period ended, and nothing more is sent
// or recorded. It returns the requests started, and skipped, per name.
func (fs *flights) cutOff(at, grace time.Duration, rec *tally.Recorder) (sent, skipped, hops []int64) {
	reason := "cut off: still in flight when the " + units.FormatDuration(grace) + " grace period ended"
	fs.mu.Lock()
	defer fs.mu.Unlock()
	sent = append([]int64(nil), fs.gone...)
	skipped = append([]int64(nil), fs.goneSkip...)
	hops = append([]int64(nil), fs.goneHops...)
	shard := 0
	for f := range fs.all {
		f.mu.Lock()
		if f.busy {
			lat := max(at-f.from, 0)
			rec.Record(shard, &tally.Outcome{Name: f.name, At: at, Response: lat, Service: lat, Failed: true, CutOff: true, Reason: reason})
			shard++
			f.busy = false
		}
		f.cut = true
		for i, n := range f.sent {
			sent[i] += n
			skipped[i] += f.skip[i]
			hops[i] += f.hops[i]
		}
		f.mu.Unlock()
	}
	return sent, skipped, hops
}
