package engine

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"lab/lang"
)

// arrival is one due start of a task or sequence pass in the open model.
type arrival struct {
	at     time.Duration // when it was due
	n      int64         // its number in the whole run's schedule (all workers')
	class  int
	task   int
	waited bool // it waited for an in-flight slot
}

type executor struct {
	scope  *lang.Scope
	ch     chan arrival
	flight *flight
}

// rateAt is the open shape's target arrival rate at t.
func rateAt(shape *lang.Shape, t time.Duration) float64 {
	prev := 0.0
	for _, st := range shape.Stages {
		if t < st.End {
			if !st.Ramp {
				return st.Rate
			}
			f := float64(t-st.Start) / float64(st.End-st.Start)
			return prev + (st.Rate-prev)*math.Max(0, f)
		}
		prev = st.Rate
	}
	return 0
}

// arrivalsBy is the number of arrivals due in [0, t): the integral of the rate.
func arrivalsBy(shape *lang.Shape, t time.Duration) float64 {
	total, prev := 0.0, 0.0
	for _, st := range shape.Stages {
		if t <= st.Start {
			break
		}
		r0 := st.Rate
		if st.Ramp {
			r0 = prev
		}
		dur := (st.End - st.Start).Seconds()
		x := (min(t, st.End) - st.Start).Seconds()
		slope := (st.Rate - r0) / dur
		total += r0*x + slope*x*x/2
		prev = st.Rate
	}
	return total
}

// arrivalTime is when arrival n (0-based) is due: the time at which the
// integral of the rate reaches n. ok is false past the shape's end.
func arrivalTime(shape *lang.Shape, n float64) (time.Duration, bool) {
	cum, prev := 0.0, 0.0
	for _, st := range shape.Stages {
		r0, r1 := st.Rate, st.Rate
		if st.Ramp {
			r0 = prev
		}
		prev = st.Rate
		dur := (st.End - st.Start).Seconds()
		area := (r0 + r1) / 2 * dur
		if n >= cum+area {
			cum += area
			continue
		}
		x := n - cum
		a := (r1 - r0) / (2 * dur)
		var tau float64
		if math.Abs(a) < 1e-12 {
			tau = x / r0
		} else {
			tau = (-r0 + math.Sqrt(math.Max(0, r0*r0+4*a*x))) / (2 * a)
		}
		return st.Start + time.Duration(tau*float64(time.Second)), true
	}
	return 0, false
}

// openRun is the open model's dispatcher: the schedule it walks, what
// each arrival starts, and the executors it hands arrivals to.
type openRun struct {
	e       *Engine
	share   Share
	version int64 // of the share in force (Engine.share)
	w       *waiter
	next    int64 // the next arrival of the share not yet offered
	last    int64 // the last arrival offered (-1: none)

	// What an arrival starts: a class by weight, then one of its tasks.
	rng         *rand.Rand
	classPicker picker
	taskPickers []picker
	// Offered load is counted per request name: an arrival is offered to
	// the first request of its pass, in the window it was due in.
	firstName [][]int
	offered   int64

	// At most slots executors, each running one arrival at a time.
	slots int
	idle  chan *executor
	all   []*executor
	wg    sync.WaitGroup
}

// runOpen starts arrivals on schedule, timed from the run's absolute start
// (not from the previous arrival, so delays never accumulate). Worker w of k
// takes the arrivals of its slots (w, w+k, w+2k… at first) of the one
// global schedule. An arrival that
// finds every in-flight slot busy waits, and its latency still counts from
// when it was due.
func (e *Engine) runOpen() {
	o := e.newOpenRun()
	e.setWaiter(o.w)
	defer o.finish()
	o.dispatch()
}

func (e *Engine) newOpenRun() *openRun {
	users := e.plan.Workload.Users
	st := e.share.load()
	share := st.cur
	o := &openRun{e: e, share: share, version: st.version, last: -1,
		rng: rand.New(rand.NewPCG(e.plan.Seed, uint64(share.Me)+0x5eed))}
	if st.next != nil {
		o.version = -1 // a share is set to take effect later: not applied yet
	}
	o.next = o.owned(0)
	uw := make([]int, len(users))
	o.taskPickers = make([]picker, len(users))
	o.firstName = make([][]int, len(users))
	for i, u := range users {
		uw[i] = u.Weight
		w := make([]int, len(u.Tasks))
		for j, t := range u.Tasks {
			w[j] = t.Weight
			first := t.Steps[0]
			if len(u.Start) > 0 {
				first = u.Start[0] // every arrival is a new user: it starts first
			}
			o.firstName[i] = append(o.firstName[i], e.steps[first].name)
		}
		o.taskPickers[i] = newPicker(w)
	}
	o.classPicker = newPicker(uw)
	o.slots = o.inFlightBound()
	o.idle = make(chan *executor, max(o.slots, e.shape.MaxInFlight))
	o.w = newWaiter(e.stopCh)
	return o
}

// pick is what the arrival due at at starts.
func (o *openRun) pick(at time.Duration) arrival {
	c := o.classPicker.pick(o.rng)
	return arrival{at: at, n: o.next, class: c, task: o.taskPickers[c].pick(o.rng)}
}

func (o *openRun) offer(a arrival, unsent bool) {
	o.e.rec.Offer(0, o.firstName[a.class][a.task], a.at, unsent)
	o.offered++
}

// dispatch sends each arrival of the share when it is due, until the
// schedule ends or the run stops.
func (o *openRun) dispatch() {
	e := o.e
	var capFreed time.Duration // when the in-flight bound last let the dispatcher go
	for ; ; o.next = o.owned(o.next + 1) {
		at, ok := o.due()
		if !ok {
			return
		}
		// The wait ends early only when the run stops. An arrival due
		// before the stop is still sent, however late the dispatcher came
		// to it (that lateness is generator lag).
		e.waitUntil(at, o.w)
		if stop, ok := e.stoppedAt(); ok && at >= stop {
			return
		}
		a := o.pick(at)
		// An arrival due while the dispatcher was held by the in-flight
		// bound is late because of the target, not the generator: it
		// counts as having waited, and its lateness is not generator lag.
		a.waited = at < capFreed
		var ex *executor
		select {
		case ex = <-o.idle:
		default:
			ex = o.spawnOrWait(&a, &capFreed)
		}
		if ex != nil && e.lapsed(e.since()) {
			// The backlog of a worker let go on after a pause is not
			// sent: finish offers it unsent with the rest.
			o.idle <- ex
			ex = nil
		}
		if ex == nil {
			o.offer(a, true)
			o.last, o.next = o.next, o.owned(o.next+1)
			return
		}
		if a.waited {
			e.gen.waited.Add(1)
			e.gen.secWaited.Add(1)
		}
		o.offer(a, false)
		o.last = o.next
		e.inFlight.Add(1)
		e.gen.sent.Add(1)
		ex.ch <- a
	}
}

// due is when the share's next arrival is due, once any new share a
// master set has taken effect; ok is false past the schedule's end. A
// share with no arrival left waits for the next share, if one is coming (a
// worker that joined a run under way starts with none).
func (o *openRun) due() (time.Duration, bool) {
	for {
		at, ok := arrivalTime(o.e.shape, float64(o.next))
		if ok && o.reshared(at) {
			continue
		}
		if ok || !o.awaitShare() {
			return at, ok
		}
	}
}

// awaitShare waits for a share the master set to take effect and switches
// to it; false when none is coming or the run stops first.
func (o *openRun) awaitShare() bool {
	st := o.e.share.load()
	if st.version == o.version || st.next == nil {
		return false
	}
	if !o.e.waitUntil(st.from, o.w) || o.e.stopped() {
		return false
	}
	return o.reshared(st.from)
}

// owned is the first arrival from n on in the share's slots (MaxInt64
// when it holds none: no arrival is ever due).
func (o *openRun) owned(n int64) int64 {
	k := int64(len(o.share.Owners))
	if k == 0 || n == math.MaxInt64 {
		return n
	}
	for i := int64(0); i < k; i++ {
		if o.share.owns(int((n + i) % k)) {
			return n + i
		}
	}
	return math.MaxInt64
}

// inFlightBound is the share's part of the shape's in-flight bound.
func (o *openRun) inFlightBound() int {
	return max(1, int(math.Ceil(float64(o.e.shape.MaxInFlight)*o.share.Fraction())))
}

// reshared switches to the share a master set for arrivals due from some
// time on, once the next arrival (due at at) is due after it. The next
// arrival is then the new share's first not yet offered and due after the
// switch; reshared says so, and the caller looks at that one instead.
func (o *openRun) reshared(at time.Duration) bool {
	st := o.e.share.load()
	if st.version == o.version || st.next == nil || at < st.from {
		return false
	}
	o.version, o.share = st.version, *st.next
	o.slots = o.inFlightBound()
	n := o.last + 1
	for {
		t, ok := arrivalTime(o.e.shape, float64(n))
		if !ok || t >= st.from {
			break
		}
		n++
	}
	o.next = o.owned(n)
	return true
}

// spawnOrWait is a new executor while there are fewer than slots, or
// else the first to become idle: then a has waited, and *capFreed is when.
// It is nil when the run stops while a waits.
func (o *openRun) spawnOrWait(a *arrival, capFreed *time.Duration) *executor {
	if len(o.all) < o.slots {
		return o.spawn()
	}
	// Every slot is busy: wait for one; the arrival's clock runs.
	a.waited = true
	select {
	case ex := <-o.idle:
		*capFreed = o.e.since()
		return ex
	case <-o.e.stopCh:
		return nil
	}
}

func (o *openRun) spawn() *executor {
	e := o.e
	id := int64(o.share.Me + o.share.workers()*len(o.all) + 1)
	ex := &executor{scope: e.plan.NewScope(id, "arrival"), ch: make(chan arrival, 1), flight: e.flights.add()}
	o.all = append(o.all, ex)
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		e.execute(ex, o.idle)
	}()
	return ex
}

// finish offers, unsent, the arrivals due before the run stopped that were
// never sent (the in-flight bound held them, or the generator fell
// behind), then stops the executors once their passes end.
func (o *openRun) finish() {
	e := o.e
	end := e.shape.Duration()
	if at, ok := e.stoppedAt(); ok {
		end = min(end, at)
	}
	for ; ; o.next = o.owned(o.next + 1) {
		at, ok := arrivalTime(e.shape, float64(o.next))
		for ok && o.reshared(at) {
			at, ok = arrivalTime(e.shape, float64(o.next))
		}
		if !ok || at >= end {
			break
		}
		o.offer(o.pick(at), true)
		o.last = o.next
	}
	e.gen.scheduled.Store(o.offered)
	close(e.gen.dispatched)
	e.setWaiter(nil)
	o.w.close()
	for _, ex := range o.all {
		close(ex.ch)
	}
	o.wg.Wait()
}

// execute runs the arrivals handed to one executor.
func (e *Engine) execute(ex *executor, idle chan<- *executor) {
	users := e.plan.Workload.Users
	buf := make([]byte, 0, 512)
	shard := int(ex.scope.UserID)
	var think *time.Timer
	for a := range ex.ch {
		if !a.waited {
			lag := e.since() - a.at
			e.gen.mu.Lock()
			_ = e.gen.lag.RecordValue(max(1, int64(lag/time.Microsecond)))
			e.gen.mu.Unlock()
		}
		class := users[a.class]
		task := class.Tasks[a.task]
		e.classes[a.class].passes.Add(1)
		// Every arrival is a new user: its number is user.id (unique
		// across workers, since they share one schedule), and nothing of
		// the last one's is kept.
		ex.scope.UserID = a.n + 1
		switch {
		case len(class.Start) > 0 || class.Cookies != lang.CookiesNone:
			ex.scope.ResetUser()
		case task.Sequence:
			ex.scope.ResetCaptures()
		}
		if len(task.Pass) > 0 {
			task.DrawPass(ex.scope)
		}
		intended, started := a.at, true
		if len(class.Start) > 0 {
			// The arrival's clock runs from its first start step: a visitor
			// who must log in first waits for it.
			ex.scope.Starting(true)
			if len(class.StartPass) > 0 {
				class.DrawStart(ex.scope)
			}
			started = e.runSteps(class.Start, class.StartGoOn, ex, shard, intended, &buf, &think) || class.StartGoOn
			ex.scope.Starting(false)
			intended = fromSend
		}
		if started {
			e.runSteps(task.Steps, task.GoOn, ex, shard, intended, &buf, &think)
		}
		ex.scope.Iteration++
		e.inFlight.Add(-1)
		idle <- ex
	}
}

// runSteps sends the steps of one pass for an open-model arrival, the
// first due at intended; false when a step failed (and goOn is false: a
// sequence's on_failure = "continue" goes on) or the run stopped.
func (e *Engine) runSteps(steps []*lang.Request, goOn bool, ex *executor, shard int, intended time.Duration, buf *[]byte, think **time.Timer) bool {
	all := true
	for i := 0; i < len(steps); i++ {
		r := steps[i]
		if n := r.Batch; n > 1 {
			if i > 0 {
				intended = fromSend
				if d := e.waitAfter(r.Think, ex.scope.Rand(), e.since()); d > 0 && !e.sleep(d, think) {
					return false
				}
			}
			if intended == fromSend && e.stopped() {
				return false
			}
			// Its steps' whens are decided as the batch is sent.
			if !e.sendBatch(steps[i:i+n], ex.scope, shard, intended, buf, ex.flight) {
				if !goOn {
					return false
				}
				all = false
			}
			i += n - 1
			continue
		}
		if send, err := r.Sends(ex.scope); err != nil {
			ex.scope.SetPending(err) // the step fails, unsent
		} else if !send {
			ex.flight.skipped(e.steps[r].name)
			continue
		}
		n, err := r.Times(ex.scope)
		if err != nil {
			ex.scope.SetPending(err) // the step fails, unsent, once
			n = 1
		}
		for k := range n {
			if i > 0 || k > 0 {
				intended = fromSend // later requests have no schedule of their own
				if d := e.waitAfter(r.Think, ex.scope.Rand(), e.since()); d > 0 && !e.sleep(d, think) {
					return false
				}
			}
			// Once the run has stopped, a pass sends no more steps (the
			// closed model's users stop between steps too); only an
			// arrival's first request, due before the stop, still goes.
			if intended == fromSend && e.stopped() {
				return false
			}
			ex.scope.RepeatIndex = int64(k)
			if !e.send(e.steps[r], ex.scope, shard, intended, buf, ex.flight) {
				if !goOn {
					return false
				}
				all = false
			}
		}
	}
	return all
}

// sleep waits for d, or until the run stops (then false); *t is a timer
// to reuse.
func (e *Engine) sleep(d time.Duration, t **time.Timer) bool {
	if *t == nil {
		*t = time.NewTimer(d)
	} else {
		(*t).Reset(d)
	}
	select {
	case <-(*t).C:
		return true
	case <-e.stopCh:
		(*t).Stop()
		return false
	}
}

// waitUntil waits until the run's clock reaches at, or the run stops
// (then false). It does not spin: the waiter wakes close enough to the due
// time (wait_linux.go), and the lag left is measured.
func (e *Engine) waitUntil(at time.Duration, w *waiter) bool {
	if d := at - e.since(); d > 0 {
		return w.wait(d)
	}
	return true
}
