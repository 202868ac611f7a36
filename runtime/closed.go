package runtime

import (
	"math"
	"sync"
	"time"

	"lab/lang"
)

// vuser is one virtual user of the closed model: a goroutine that picks a
// task, runs it, waits, and again, until it is stopped.
type vuser struct {
	id    int64 // 1-based, unique across workers
	class *lang.UserClass
	stats *classStats
	tasks picker
	scope *lang.Scope
	stop  chan struct{}
	timer *time.Timer
}

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
// stops: user g (1-based) runs on worker (g-1) mod Count and lives while g
// is within the target, so the highest-numbered users stop first and the
// class mix of every prefix is the one classSequence gives.
func (e *Engine) runClosed() {
	users := e.plan.Workload.Users
	peak := peakUsers(e.shape)
	classes := classSequence(users, peak)
	pickers := make([]picker, len(users))
	for i, u := range users {
		w := make([]int, len(u.Tasks))
		for j, t := range u.Tasks {
			w[j] = t.Weight
		}
		pickers[i] = newPicker(w)
	}
	share := e.opts.Share
	var mine []int64 // the global ids this share runs, ascending
	for g := int64(1); g <= int64(peak); g++ {
		if int((g-1)%int64(share.Count)) == share.Index {
			mine = append(mine, g)
		}
	}
	var wg sync.WaitGroup
	var live []*vuser
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		target := closedTarget(e.shape, e.since())
		want := 0
		for want < len(mine) && mine[want] <= int64(target) {
			want++
		}
		for len(live) < want {
			g := mine[len(live)]
			c := classes[g-1]
			u := &vuser{id: g, class: users[c], stats: &e.classes[c], tasks: pickers[c], scope: e.plan.NewScope(g, users[c].Name), stop: make(chan struct{})}
			live = append(live, u)
			wg.Add(1)
			e.users.Add(1)
			u.stats.join()
			go func() {
				defer wg.Done()
				defer e.users.Add(-1)
				defer u.stats.users.Add(-1)
				e.userLoop(u)
			}()
		}
		for len(live) > want {
			u := live[len(live)-1]
			live = live[:len(live)-1]
			close(u.stop)
		}
		select {
		case <-e.stopCh:
			for _, u := range live {
				close(u.stop)
			}
			wg.Wait()
			return
		case <-tick.C:
		}
	}
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// userLoop is one user's life: passes separated by its waits.
func (e *Engine) userLoop(u *vuser) {
	shard := int(u.id)
	r := u.scope.Rand()
	for {
		select {
		case <-u.stop:
			return
		default:
		}
		task := u.class.Tasks[u.tasks.pick(r)]
		u.stats.passes.Add(1)
		passStart := e.since()
		if !e.pass(u, task, shard) {
			return
		}
		u.scope.Iteration++
		if !u.sleep(e.waitAfter(u.class.Wait, r, passStart)) {
			return
		}
	}
}

// pass runs one task, or one pass of a sequence up to its first failed
// step. It returns false when the user was stopped.
func (e *Engine) pass(u *vuser, task *lang.Task, shard int) bool {
	buf := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(buf)
	if task.Sequence {
		u.scope.ResetCaptures()
	}
	for i, r := range task.Steps {
		if i > 0 {
			if r.Think.Kind != lang.WaitNone && !u.sleep(e.waitAfter(r.Think, u.scope.Rand(), e.since())) {
				return false
			}
			select {
			case <-u.stop:
				return false
			default:
			}
		}
		if !e.send(e.steps[r], u.scope, shard, 0, buf) {
			break
		}
	}
	return true
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

// sleep waits d or until the user is stopped; false means stopped.
func (u *vuser) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	if u.timer == nil {
		u.timer = time.NewTimer(d)
	} else {
		u.timer.Reset(d)
	}
	select {
	case <-u.timer.C:
		return true
	case <-u.stop:
		u.timer.Stop()
		return false
	}
}
