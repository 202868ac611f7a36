package engine

import (
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"lab/lang"
)

// Subtleness ahead: a closed-model user is not a goroutine. A goroutine's
// stack grows to several KiB while it sends a request and stays grown while
// it waits, so 100,000 users waiting a minute would hold most of a gigabyte.
// Here a user is a small struct: a worker goroutine runs it until it has to
// wait, then a timer hands it back to the workers when the wait is over.
// Workers are added whenever a user is ready and none is idle, up to one per
// user, so users never queue for a worker and the closed model keeps its
// concurrency. A user that never waits keeps its worker, with no hand-off.

// vuser is one virtual user of the closed model.
type vuser struct {
	id        int64 // 1-based, unique across workers
	class     *lang.UserClass
	stats     *classStats
	tasks     picker
	scope     *lang.Scope
	timer     *time.Timer // wakes the user after a wait
	task      *lang.Task  // the pass in progress, nil between passes
	step      int         // next step of the pass
	thought   bool        // the next step's think time is over
	rep, reps int32       // the step's repetition in progress, and how many it has
	starting  bool        // the pass in progress is the class's start block
	started   bool        // the start block succeeded (or the class has none)
	passStart time.Duration
	stopped   atomic.Bool
	// state guards a user's hand-over between its timer, the workers and
	// the controller: exactly one of them owns it at a time.
	state atomic.Int32
}

const (
	userRunning  int32 = iota // a worker owns it (or it waits in the ready queue)
	userSleeping              // its timer owns it
	userGone                  // stopped and accounted for
)

// closedRun is the closed model's machinery for one engine.
type closedRun struct {
	e        *Engine
	ready    chan *vuser
	workers  atomic.Int64
	idle     atomic.Int64 // workers waiting for a user
	queued   atomic.Int64 // users in the ready queue
	maxUsers int64
	wg       sync.WaitGroup // workers
	finished atomic.Int64   // users whose iterations are done
	tickets  atomic.Int64   // shared_iterations: passes left to this worker
}

// TargetUsers is the number of users a closed shape wants at t (since the
// run's start), for a master's progress.
func TargetUsers(shape *lang.Shape, t time.Duration) int { return closedTarget(shape, t) }

// closedTarget is the number of users the shape wants at t: each stage moves
// from where the previous one left off toward its target at its spawn rate.
// It is rounded toward where the ramp came from, so a ramp is never ahead.
func closedTarget(shape *lang.Shape, t time.Duration) int {
	level := 0.0
	for _, st := range shape.Stages {
		if t < st.Start {
			break
		}
		from := level
		target := float64(st.Users)
		if st.SpawnRate <= 0 {
			level = target
		} else {
			dt := (min(t, st.End) - st.Start).Seconds()
			move := st.SpawnRate * dt
			if from < target {
				level = math.Min(target, from+move)
			} else {
				level = math.Max(target, from-move)
			}
		}
		if t < st.End {
			if level >= from {
				return int(math.Floor(level + 1e-9))
			}
			return int(math.Ceil(level - 1e-9))
		}
	}
	return int(math.Round(level))
}

// peakUsers is the most users any stage asks for.
func peakUsers(shape *lang.Shape) int {
	peak := 0
	for _, st := range shape.Stages {
		peak = max(peak, st.Users)
	}
	return peak
}

// runClosed keeps the share's users at the shape's target until the run
// stops: user g (1-based) lives while g is within the target, so the
// highest-numbered users stop first and the class mix of every prefix is
// the one classSequence gives; each worker runs the users in its slots
// (Share). When a master re-splits the load, the users of the slots this
// worker gains start and those of the slots it loses stop.
func (e *Engine) runClosed() {
	users := e.plan.Workload.Users
	peak := peakUsers(e.shape)
	classes := classSequence(users, peak)
	slots := userSlots(classes)
	pickers := make([]picker, len(users))
	for i, u := range users {
		w := make([]int, len(u.Tasks))
		for j, t := range u.Tasks {
			w[j] = t.Weight
		}
		pickers[i] = newPicker(w)
	}
	maxUsers := int64(peak)
	if len(e.opts.Share.Owners) == 0 {
		maxUsers = int64(len(e.mine(slots, e.opts.Share)))
	}
	c := &closedRun{e: e, ready: make(chan *vuser, maxUsers+1), maxUsers: maxUsers}
	if n := e.shape.SharedIterations; n > 0 {
		// A worker takes its share's part of the passes.
		frac := 1.0
		if len(e.opts.Share.Owners) > 0 {
			frac = e.opts.Share.Fraction()
		}
		c.tickets.Store(int64(math.Round(float64(n) * frac)))
	}
	counted := e.shape.Iterations > 0 || e.shape.SharedIterations > 0
	start := func(g int64) *vuser {
		k := classes[g-1]
		u := &vuser{id: g, class: users[k], stats: &e.classes[k], tasks: pickers[k], scope: e.plan.NewScope(g, users[k].Name)}
		e.users.Add(1)
		u.stats.join()
		c.schedule(u)
		return u
	}
	version, resplit := int64(-1), false
	var mine []int64 // the global ids this share runs, ascending
	var live []*vuser
	const every = 10 * time.Millisecond
	tick := time.NewTicker(every)
	defer tick.Stop()
	peakWorkers := int64(0)
	for {
		c.releaseAfterBurst(&peakWorkers)
		if st := e.share.load(); st.version != version && (st.next == nil || e.since() >= st.from) {
			version = st.version
			sh := st.cur
			if st.next != nil {
				sh = *st.next
			}
			mine = e.mine(slots, sh)
			resplit = true
		}
		target := closedTarget(e.shape, e.since())
		want := 0
		for want < len(mine) && mine[want] <= int64(target) {
			want++
		}
		live = c.reconcile(live, mine[:want], start, resplit)
		resplit = false
		if counted && len(mine) > 0 && c.finished.Load() >= int64(len(mine)) {
			// Every user has run its passes: the run is over, complete.
			e.halt()
		}
		wake := tick.C
		if st := e.share.load(); st.version != version && st.from-e.since() < every {
			// A new share is due before the next tick: switch at from
			// itself, as the other workers do, or users would be missing
			// (or doubled) from the load until then.
			wake = time.After(st.from - e.since())
		}
		select {
		case <-e.stopCh:
			for _, u := range live {
				c.stop(u)
			}
			c.wg.Wait()
			return
		case <-wake:
		}
	}
}

// userSlots is the slot of each user (index g-1): the r-th user of class k
// goes to slot r+k, taken modulo the slot count by Share.
func userSlots(classes []int) []int {
	rank := map[int]int{}
	slots := make([]int, len(classes))
	for i, k := range classes {
		slots[i] = rank[k] + k
		rank[k]++
	}
	return slots
}

// mine lists, ascending, the users whose slots the share holds.
func (e *Engine) mine(slots []int, sh Share) []int64 {
	var ids []int64
	for i, s := range slots {
		if sh.owns(s) {
			ids = append(ids, int64(i+1))
		}
	}
	return ids
}

// reconcile makes the live users exactly want (ascending ids) and returns
// them: the highest-numbered stop first, the missing start. Between
// re-splits live is always a prefix of the share's users, which makes this
// cheap; just after one (merge), the two are walked side by side so that
// users kept on this worker keep running.
func (c *closedRun) reconcile(live []*vuser, want []int64, start func(int64) *vuser, merge bool) []*vuser {
	if merge {
		out := make([]*vuser, 0, len(want))
		i := 0
		for _, g := range want {
			for i < len(live) && live[i].id < g {
				c.stop(live[i])
				i++
			}
			if i < len(live) && live[i].id == g {
				out = append(out, live[i])
				i++
				continue
			}
			out = append(out, start(g))
		}
		for _, u := range live[i:] {
			c.stop(u)
		}
		return out
	}
	for len(live) > len(want) {
		c.stop(live[len(live)-1])
		live = live[:len(live)-1]
	}
	for _, g := range want[len(live):] {
		live = append(live, start(g))
	}
	return live
}

// releaseAfterBurst gives memory back once a burst of workers is over: when
// many users became ready at once (all spawned together), thousands of
// workers with grown stacks and their requests' buffers were needed for a
// moment. Go would free them at its next collection, which an idle heap may
// not trigger for two minutes; waiting users should not hold that memory.
func (c *closedRun) releaseAfterBurst(peak *int64) {
	w := c.workers.Load()
	if w > *peak {
		*peak = w
		return
	}
	if *peak-w > 1000 && w < *peak/4 {
		*peak = w
		go debug.FreeOSMemory()
	}
}

// schedule hands a ready user to an idle worker, adding a worker when the
// ready users outnumber the idle workers (a worker may keep a user that
// never waits for the whole run, so idle workers are counted, not assumed).
func (c *closedRun) schedule(u *vuser) {
	if c.queued.Add(1) > c.idle.Load() && c.workers.Load() < c.maxUsers {
		c.workers.Add(1)
		c.idle.Add(1)
		c.wg.Add(1)
		go c.worker()
	}
	c.ready <- u
}

// stop ends a user: at once if it sleeps, else at its next step.
func (c *closedRun) stop(u *vuser) {
	u.stopped.Store(true)
	if u.state.CompareAndSwap(userSleeping, userGone) {
		u.timer.Stop()
		c.gone(u)
	}
}

// takePass tells whether u may start another pass: under the shape's
// iterations, until it has run that many; under shared_iterations, while
// this worker's part of them lasts.
func (c *closedRun) takePass(u *vuser) bool {
	switch sh := c.e.shape; {
	case sh.Iterations > 0:
		return u.scope.Iteration < int64(sh.Iterations)
	case sh.SharedIterations > 0:
		return c.tickets.Add(-1) >= 0
	}
	return true
}

func (c *closedRun) gone(u *vuser) {
	c.e.users.Add(-1)
	u.stats.users.Add(-1)
}

// A worker idle this long leaves, unless it is one of the last few: a
// burst (every user starting at once) needs many workers for a moment, and
// each holds a grown stack.
const (
	workerIdleTimeout = time.Second
	minWorkers        = 64
)

func (c *closedRun) worker() {
	defer c.wg.Done()
	f := c.e.flights.add()
	defer c.e.flights.remove(f)
	idleTimer := time.NewTimer(workerIdleTimeout)
	defer idleTimer.Stop()
	for {
		select {
		case u := <-c.ready:
			c.queued.Add(-1)
			c.idle.Add(-1)
			c.run(u, f)
			c.idle.Add(1)
			idleTimer.Reset(workerIdleTimeout)
		case <-idleTimer.C:
			if c.workers.Load() > minWorkers {
				if c.idle.Add(-1) >= 0 {
					c.workers.Add(-1)
					return
				}
				c.idle.Add(1)
			}
			idleTimer.Reset(workerIdleTimeout)
		case <-c.e.stopCh:
			return
		}
	}
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// run runs user u on the worker whose flight is f until it has to wait
// (its timer takes it) or stops.
func (c *closedRun) run(u *vuser, f *flight) {
	e := c.e
	r := u.scope.Rand()
	buf := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(buf)
	for {
		if u.stopped.Load() || e.stopped() {
			u.state.Store(userGone)
			c.gone(u)
			return
		}
		if u.task == nil {
			u.step, u.thought = 0, false
			u.passStart = e.since()
			if !u.started && len(u.class.Start) > 0 {
				u.task, u.starting = e.startTasks[u.class], true
				u.scope.Starting(true)
				if len(u.class.StartPass) > 0 {
					u.class.DrawStart(u.scope)
				}
			} else {
				if !c.takePass(u) {
					// Its iterations are done: the user stops for good.
					u.state.Store(userGone)
					c.gone(u)
					c.finished.Add(1)
					return
				}
				u.task = u.class.Tasks[u.tasks.pick(r)]
				u.stats.passes.Add(1)
				if u.task.Sequence {
					u.scope.ResetCaptures()
				}
				if u.class.Cookies == lang.CookiesPass {
					u.scope.NewPassJar()
				}
				if len(u.task.Pass) > 0 {
					u.task.DrawPass(u.scope)
				}
			}
		}
		task := u.task
		failed := false
		for u.step < len(task.Steps) {
			st := task.Steps[u.step]
			if u.rep == 0 && st.When != nil && !u.thought && st.Batch < 2 {
				// Decided when the pass reaches the step.
				send, err := st.Sends(u.scope)
				if err != nil {
					u.scope.SetPending(err) // the step fails, unsent
				} else if !send {
					f.skipped(e.steps[st].name)
					u.step++
					continue
				}
			}
			if u.rep == 0 && st.Repeat != nil && !u.thought {
				// Drawn once when the pass reaches the step.
				n, err := st.Times(u.scope)
				if err != nil {
					u.scope.SetPending(err) // the step fails, unsent, once
					n = 1
				}
				if n == 0 {
					u.step++
					continue
				}
				u.reps = int32(n)
			}
			if (u.step > 0 || u.rep > 0) && st.Think.Kind != lang.WaitNone && !u.thought {
				u.thought = true
				if d := e.waitAfter(st.Think, r, e.since()); d > 0 {
					c.sleep(u, d)
					return
				}
			}
			u.thought = false
			var ok bool
			if n := st.Batch; n > 1 {
				// Its steps' whens are decided as the batch is sent.
				ok = e.sendBatch(task.Steps[u.step:u.step+n], u.scope, int(u.id), fromSend, buf, f)
				u.step += n
			} else {
				u.scope.RepeatIndex = int64(u.rep)
				ok = e.send(e.steps[st], u.scope, int(u.id), fromSend, buf, f)
				if u.rep++; u.rep >= u.reps {
					u.step++
					u.rep, u.reps = 0, 0
				}
			}
			if !ok {
				failed = true
				if !task.GoOn {
					u.rep, u.reps = 0, 0
					break // a failed step ends the pass
				}
			}
			if u.stopped.Load() || e.stopped() {
				u.state.Store(userGone)
				c.gone(u)
				return
			}
		}
		u.task = nil
		if u.starting {
			u.starting = false
			u.scope.Starting(false)
			if !failed || task.GoOn {
				// Started: the first pass follows at once, as after
				// Locust's on_start; a failed start waits and tries again.
				u.started = true
				u.scope.StartedJar()
				continue
			}
		} else {
			u.scope.Iteration++
		}
		if d := e.waitAfter(u.class.Wait, r, u.passStart); d > 0 {
			c.sleep(u, d)
			return
		}
	}
}

// sleep gives u to its timer for d.
func (c *closedRun) sleep(u *vuser, d time.Duration) {
	u.state.Store(userSleeping)
	if u.stopped.Load() && u.state.CompareAndSwap(userSleeping, userGone) {
		c.gone(u)
		return
	}
	if u.timer == nil {
		u.timer = time.AfterFunc(d, func() { c.wake(u) })
	} else {
		u.timer.Reset(d)
	}
}

// wake is u's timer firing: the user is ready again, unless it was stopped.
func (c *closedRun) wake(u *vuser) {
	if !u.state.CompareAndSwap(userSleeping, userRunning) {
		return
	}
	select {
	case <-c.e.stopCh:
		u.state.Store(userGone)
		c.gone(u)
		return
	default:
	}
	c.schedule(u)
}

// waitAfter is how long to wait after a pass that started at passStart.
func (e *Engine) waitAfter(w lang.Wait, r interface{ Int64N(int64) int64 }, passStart time.Duration) time.Duration {
	switch w.Kind {
	case lang.WaitConstant:
		return w.Min
	case lang.WaitBetween:
		if w.Max <= w.Min {
			return w.Min
		}
		return w.Min + time.Duration(r.Int64N(int64(w.Max-w.Min)+1))
	case lang.WaitPacing:
		return w.Min - (e.since() - passStart)
	}
	return 0
}
