package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"lab/lang"
	"lab/runtime/engine"
	"lab/runtime/guard"
	"lab/runtime/result"
	"lab/runtime/tally"
)

// MasterConfig is what the master needs to run a plan on workers.
type MasterConfig struct {
	Listen  string // host:port; a port of 0 picks one (Master.Addr)
	Token   string // required unless Listen is a loopback address
	Version string // lab's build: workers must run the same
	Workers int    // how many to wait for before starting
	// JoinTimeout bounds the wait for Workers to join.
	JoinTimeout time.Duration
	OnLoss      string // "fail" or "continue"
	Plan        *lang.Plan
	// Order is the plan as workers get it; the master fills in the start
	// and each worker's share.
	Order Order
	// StartDelay is how long after the last worker joined the run starts,
	// so every worker has its order by then (default 2 s).
	StartDelay time.Duration
	Log        io.Writer
	// OnTick and OnWindow are called with every merged second and window,
	// as engine.Options' are (progress, live abort rules).
	OnTick   func(engine.Tick)
	OnWindow func(tally.WindowStats)
}

// Master coordinates one distributed run.
type Master struct {
	cfg   MasterConfig
	ln    net.Listener
	srv   *http.Server
	names []string

	mu        sync.Mutex
	state     string
	members   []*member
	start     time.Time
	owners    []int
	shareVer  int64
	from      time.Time
	stopWhy   string
	interrupt bool
	stoppedAt time.Time
	failed    string // why the run failed: a worker lost under "fail"
	abandoned string // why the run will not start
	onStart   func(time.Time)
	secs      map[int64]*secAcc // every second of the run
	pending   map[int64]*secAcc // those not handed out yet
	wins      map[int64]*winAcc
	secDone   int64 // seconds before it were handed out
	winDone   int64
	doneReq   int64
	doneFail  int64
	completed atomic.Int64
}

// member is one worker as the master knows it.
type member struct {
	id         int
	join       Join
	remote     string
	me         int // its number in the share table; -1 until it has one
	joined     time.Time
	left       time.Time
	lastSeen   time.Time
	lost       string
	final      *result.Run
	fail       string
	secMark    int64
	winMark    int64
	lastSec    int64 // the last second it reported (unix s)
	lastWinEnd int64 // end of the last window it reported (unix s)
	windows    []Window
	trail      map[int64]*Second // its seconds after its last window: its part beyond them, if it is lost
	// What it streamed, per request name (completed, failed) and per
	// second (requests, failures): its final Run must say the same.
	streamed [][2]int64
	perSec   map[int64][2]int64
	users    int
	inFlight int
	// lostArrivals: once lost (open model), the requests of its share
	// that no report accounts for (Master.lose).
	lostArrivals int64
}

// newMember adds a worker that joined.
func (m *Master) newMember(j Join, remote string) *member {
	mb := &member{id: len(m.members) + 1, join: j, remote: remote, me: -1, joined: time.Now(), lastSeen: time.Now(),
		trail: map[int64]*Second{}, streamed: make([][2]int64, len(m.names)), perSec: map[int64][2]int64{}}
	m.members = append(m.members, mb)
	return mb
}

// active is a member that runs its share now.
func (mb *member) active() bool {
	return mb.me >= 0 && mb.lost == "" && mb.final == nil && mb.fail == ""
}

// NewMaster listens and serves workers; Run starts the run once enough
// have joined. A non-loopback address needs a token.
func NewMaster(cfg MasterConfig) (*Master, error) {
	if err := CheckListen(cfg.Listen, cfg.Token); err != nil {
		return nil, err
	}
	if cfg.StartDelay == 0 {
		cfg.StartDelay = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("the master cannot listen on %s: %w", cfg.Listen, err)
	}
	m := &Master{cfg: cfg, ln: ln, names: cfg.Plan.Workload.Requests, state: Waiting,
		secs: map[int64]*secAcc{}, pending: map[int64]*secAcc{}, wins: map[int64]*winAcc{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+joinPath, m.handleJoin)
	mux.HandleFunc("POST "+syncPath, m.handleSync)
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: time.Minute, IdleTimeout: time.Minute}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

// CheckListen refuses a master address that is not loopback when there is
// no token: anyone who can reach it could otherwise join and be sent the
// plan.
func CheckListen(addr, token string) error { return guard.Check("the master address", addr, token) }

// OnStart sets what to call with the run's start once it is set.
func (m *Master) OnStart(f func(time.Time)) {
	m.mu.Lock()
	m.onStart = f
	m.mu.Unlock()
}

// Addr is where the master listens.
func (m *Master) Addr() string { return m.ln.Addr().String() }

// Close stops serving.
func (m *Master) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = m.srv.Shutdown(ctx)
}

// Completed is the number of requests completed in the merged seconds.
func (m *Master) Completed() int64 { return m.completed.Load() }

// Abandon gives up waiting for workers, when one that was to join cannot
// (a local worker process that exited): the run does not start. Once the
// run has started it does nothing: a lost worker is handled as such.
func (m *Master) Abandon(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == Waiting && m.abandoned == "" {
		m.abandoned = reason
	}
}

// Stop ends the run early (an abort rule): every worker stops sending.
func (m *Master) Stop(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopLocked(reason, false)
}

func (m *Master) stopLocked(reason string, interrupt bool) {
	if m.state == Stopping {
		return
	}
	m.state, m.stopWhy, m.interrupt, m.stoppedAt = Stopping, reason, interrupt, time.Now()
}

func (m *Master) logf(format string, args ...any) {
	fmt.Fprintf(m.cfg.Log, format+"\n", args...)
}

// authorized checks the bearer token, in constant time.
func (m *Master) authorized(r *http.Request) bool {
	return guard.TokenOK(m.cfg.Token, guard.BearerOf(r))
}

func (m *Master) handleJoin(w http.ResponseWriter, r *http.Request) {
	var j Join
	if err := decode(r.Body, &j); err != nil {
		reply(w, http.StatusBadRequest, Joined{Error: err.Error()})
		return
	}
	who := fmt.Sprintf("worker %q at %s", j.Name, r.RemoteAddr)
	if !m.authorized(r) {
		m.logf("refused %s: wrong or missing token", who)
		reply(w, http.StatusUnauthorized, Joined{Error: "wrong or missing token (LAB_TOKEN or --token-file must match the master's)"})
		return
	}
	if j.Protocol != Protocol || j.Version != m.cfg.Version {
		why := fmt.Sprintf("another version: the master runs lab %s (protocol %d), the worker lab %s (protocol %d); run the same build on both",
			m.cfg.Version, Protocol, j.Version, j.Protocol)
		m.logf("refused %s: %s", who, why)
		reply(w, http.StatusConflict, Joined{Error: why})
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == Stopping {
		reply(w, http.StatusConflict, Joined{Error: "the run is ending"})
		return
	}
	mb := m.newMember(j, r.RemoteAddr)
	m.logf("worker %d joined: %s on %s (%s)", mb.id, j.Name, j.Host, r.RemoteAddr)
	reply(w, http.StatusOK, Joined{ID: mb.id})
}

func (m *Master) handleSync(w http.ResponseWriter, r *http.Request) {
	if !m.authorized(r) {
		reply(w, http.StatusUnauthorized, Reply{Error: "wrong or missing token"})
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		reply(w, http.StatusBadRequest, Reply{Error: err.Error()})
		return
	}
	s, err := DecodeSync(data, len(m.names))
	if err != nil {
		reply(w, http.StatusBadRequest, Reply{Error: err.Error()})
		return
	}
	m.mu.Lock()
	if s.ID < 1 || s.ID > len(m.members) {
		m.mu.Unlock()
		reply(w, http.StatusNotFound, Reply{Error: fmt.Sprintf("no worker %d here: join first", s.ID)})
		return
	}
	mb := m.members[s.ID-1]
	if mb.lost != "" {
		m.mu.Unlock()
		reply(w, http.StatusGone, Reply{Error: "the master counted this worker as lost (" + mb.lost + "); it stops"})
		return
	}
	mb.lastSeen = time.Now()
	m.absorb(mb, s)
	if mb.lost != "" { // its final Run was refused
		calls := m.advance()
		m.mu.Unlock()
		reply(w, http.StatusGone, Reply{Error: "the master counted this worker as lost (" + mb.lost + "); it stops"})
		calls()
		return
	}
	rep := m.replyFor(mb, s)
	calls := m.advance()
	m.mu.Unlock()
	reply(w, http.StatusOK, rep)
	calls()
}

// replyFor is the master's answer to mb's sync.
func (m *Master) replyFor(mb *member, s *Sync) Reply {
	rep := Reply{State: m.state}
	if mb.final != nil || mb.fail != "" {
		rep.Done = true
		return rep
	}
	if m.state == Waiting {
		return rep
	}
	if mb.me < 0 && m.state == Running {
		m.admit(mb)
	}
	share := ShareOrder{Version: m.shareVer, Me: mb.me, Owners: m.owners, From: m.from}
	if !s.HaveOrder && mb.me >= 0 {
		o := m.cfg.Order
		o.Start, o.Share = m.start, share
		rep.Order = &o
	} else if s.ShareVersion != m.shareVer {
		rep.Share = &share
	}
	if m.state == Stopping {
		rep.Stop, rep.Interrupt = m.stopWhy, m.interrupt
	}
	return rep
}

// admit gives a worker that joined after the start a part of the load:
// slots from the workers holding the most, until it holds its even part.
func (m *Master) admit(mb *member) {
	next := 0
	for _, o := range m.members {
		next = max(next, o.me+1)
	}
	mb.me = next
	m.setShare(engine.Rebalance(m.owners, m.liveMes(), mb.me), "worker %d joined late", mb.id)
}

// setShare puts a new share table in force from a moment every worker
// hears of it before: one and a half heartbeats on at least, in the middle
// of a wall-clock second. Workers count their users just after each second
// ends; a switch then could fall between one worker's count and another's.
func (m *Master) setShare(owners []int, why string, args ...any) {
	m.owners = owners
	m.shareVer++
	soon := time.Now().Add(Heartbeat * 3 / 2)
	m.from = soon.Truncate(time.Second).Add(time.Second / 2)
	if m.from.Before(soon) {
		m.from = m.from.Add(time.Second)
	}
	m.logf("%s: the load is split again over %d workers", fmt.Sprintf(why, args...), len(m.liveMes()))
}

// liveMes are the share numbers of the workers running now.
func (m *Master) liveMes() []int {
	var out []int
	for _, mb := range m.members {
		if mb.active() {
			out = append(out, mb.me)
		}
	}
	return out
}

// Run waits for the workers, starts the run, watches it, and returns the
// merged Run once every worker has sent its own or been lost. ctx ending
// interrupts the run.
func (m *Master) Run(ctx context.Context) (*result.Run, error) {
	if err := m.awaitWorkers(ctx); err != nil {
		m.mu.Lock()
		m.stopLocked(err.Error(), false)
		m.mu.Unlock()
		return nil, err
	}
	end := m.begin()
	m.mu.Lock()
	onStart, start := m.onStart, m.start
	m.mu.Unlock()
	if onStart != nil {
		onStart(start)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	interrupted := false
	for {
		select {
		case <-ctx.Done():
			if !interrupted {
				interrupted = true
				m.mu.Lock()
				m.stopLocked("interrupted by a signal", true)
				m.mu.Unlock()
			}
		case <-tick.C:
		}
		if m.watch(end) {
			return m.assemble()
		}
	}
}

// awaitWorkers waits until Workers have joined.
func (m *Master) awaitWorkers(ctx context.Context) error {
	deadline := time.Now().Add(m.cfg.JoinTimeout)
	for {
		m.mu.Lock()
		n := 0
		for _, mb := range m.members {
			if mb.lost == "" {
				n++
			}
		}
		m.checkSilence()
		abandoned := m.abandoned
		m.mu.Unlock()
		if abandoned != "" {
			return fmt.Errorf("%s; %d of %d workers joined", abandoned, n, m.cfg.Workers)
		}
		if n >= m.cfg.Workers {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d workers joined in %s (lab worker --master %s)", n, m.cfg.Workers, m.cfg.JoinTimeout, m.Addr())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for workers (%d of %d joined)", n, m.cfg.Workers)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// begin sets the start and deals the load out evenly among the workers
// that joined; it returns when the run must be over, grace included.
func (m *Master) begin() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.start = time.Now().Add(m.cfg.StartDelay)
	var n int
	for _, mb := range m.members {
		if mb.lost == "" {
			mb.me = n
			n++
		}
	}
	m.owners = engine.Even(n)
	m.shareVer = 1
	m.from = m.start
	m.state = Running
	m.secDone = m.start.Unix()
	m.winDone = m.secDone - m.secDone%int64(tally.Window/time.Second)
	m.logf("run starts at %s on %d workers", m.start.Format("15:04:05.000"), n)
	return m.start.Add(m.cfg.Plan.Shape.Duration() + m.cfg.Order.Grace)
}

// watch checks for lost workers and tells whether the run is over: every
// worker has sent its final Run or is lost. Past end (the shape, the grace
// and a margin), a worker still silent about its final Run is lost.
func (m *Master) watch(end time.Time) bool {
	m.mu.Lock()
	m.checkSilence()
	limit := end.Add(10 * time.Second)
	if !m.stoppedAt.IsZero() {
		if l := m.stoppedAt.Add(m.cfg.Order.Grace + 10*time.Second); l.Before(limit) {
			limit = l
		}
	}
	over := true
	for _, mb := range m.members {
		if mb.active() {
			if time.Now().After(limit) {
				m.lose(mb, "sent no final run in time")
				continue
			}
			over = false
		}
	}
	calls := m.advance()
	m.mu.Unlock()
	calls()
	return over
}

// checkSilence loses every worker not heard from for Silence.
func (m *Master) checkSilence() {
	for _, mb := range m.members {
		if mb.lost == "" && mb.final == nil && mb.fail == "" && time.Since(mb.lastSeen) > Silence {
			m.lose(mb, fmt.Sprintf("no heartbeat for %s", Silence))
		}
	}
}

// lose marks a worker lost and keeps what it reported: its windows and
// the seconds after them (its trail) are its part of the Run. It fails the
// run or deals the worker's part out to the others, as the plan says, and
// (open model) counts the arrivals of its share that no one can account
// for: in flight at its last report, or due from then until the others
// take its share over (or the run stops), each sent before it was lost or
// never.
func (m *Master) lose(mb *member, why string) {
	mb.lost, mb.left = why, time.Now()
	m.logf("worker %d (%s on %s) lost: %s", mb.id, mb.join.Name, mb.join.Host, why)
	if mb.me < 0 {
		return
	}
	old := engine.Share{Me: mb.me, Owners: m.owners}
	until := mb.left
	if m.state == Running {
		live := m.liveMes()
		if m.cfg.OnLoss != "continue" || len(live) == 0 {
			m.failed = fmt.Sprintf("worker %d (%s) lost: %s", mb.id, mb.join.Host, why)
			if len(live) == 0 {
				m.failed += "; no worker left"
			}
			m.stopLocked(m.failed, false)
		} else {
			m.setShare(engine.Resplit(m.owners, live), "worker %d lost", mb.id)
			until = m.from
		}
	}
	if !m.stoppedAt.IsZero() && m.stoppedAt.Before(until) {
		until = m.stoppedAt
	}
	if m.cfg.Plan.Shape.Model != lang.Open {
		return
	}
	horizon := time.Unix(max(mb.secMark, m.start.Unix()), 0)
	inFlight := int64(mb.inFlight)
	if s := mb.trail[mb.secMark-1]; s != nil {
		inFlight = max(inFlight, int64(s.InFlight))
	}
	mb.lostArrivals = inFlight + engine.DueIn(m.cfg.Plan.Shape, old, horizon.Sub(m.start), until.Sub(m.start))
	m.logf("worker %d: up to %d requests of its share after its last report (%s) cannot be accounted for", mb.id, mb.lostArrivals, horizon.Format("15:04:05"))
}

func (m *Master) absorb(mb *member, s *Sync) {
	for _, sec := range s.Seconds {
		if sec.T <= mb.lastSec {
			continue // sent again: the answer to an earlier sync was lost
		}
		mb.lastSec = sec.T
		for i, c := range sec.Counts {
			mb.streamed[i][0] += c[0]
			mb.streamed[i][1] += c[1]
		}
		mb.perSec[sec.T] = [2]int64{sec.Requests, sec.Failures}
		acc := m.secs[sec.T]
		if acc == nil {
			acc = newSecAcc(len(m.names))
			m.secs[sec.T] = acc
			if sec.T >= m.secDone {
				m.pending[sec.T] = acc
			}
		}
		acc.add(&sec, sec.T >= m.secDone)
		cp := sec // with its histogram: a lost worker's part may need it
		mb.trail[sec.T] = &cp
	}
	for _, w := range s.Windows {
		if w.T < mb.lastWinEnd {
			continue
		}
		mb.windows = append(mb.windows, w)
		mb.lastWinEnd = w.T + int64(tally.Window/time.Second)
		if w.T >= m.winDone {
			acc := m.wins[w.T]
			if acc == nil {
				acc = newWinAcc(len(m.names))
				m.wins[w.T] = acc
			}
			acc.add(&w)
		}
	}
	for t := range mb.trail {
		if t < mb.lastWinEnd {
			delete(mb.trail, t)
		}
	}
	mb.secMark, mb.winMark = max(mb.secMark, s.SecMark), max(mb.winMark, s.WinMark)
	mb.users, mb.inFlight = s.Users, s.InFlight
	if s.Final != nil && mb.final == nil && mb.fail == "" {
		if err := m.checkFinal(mb, s.Final); err != nil {
			m.lose(mb, "its final run disagrees with what it streamed: "+err.Error())
			return
		}
		mb.final, mb.left = s.Final, time.Now()
		mb.trail = nil
	}
	if s.Error != "" && mb.fail == "" {
		mb.fail = s.Error
		m.logf("worker %d could not run: %s", mb.id, s.Error)
		m.lose(mb, "could not run: "+s.Error)
	}
}

// checkFinal compares a worker's final Run with what it streamed: the
// same request names, the same counts per name, and the same requests and
// failures in every second. A worker whose two accounts differ is not
// believed: its part is what it streamed.
func (m *Master) checkFinal(mb *member, run *result.Run) error {
	index := map[string]int{}
	for i, n := range m.names {
		index[n] = i
	}
	got := make([][2]int64, len(m.names))
	for _, q := range run.Requests {
		i, ok := index[q.Name]
		if !ok {
			return fmt.Errorf("request %q is not in the plan", q.Name)
		}
		got[i] = [2]int64{q.Count, q.Failures}
	}
	for i, n := range m.names {
		if got[i] != mb.streamed[i] {
			return fmt.Errorf("%s: %d requests, %d failed; it streamed %d and %d", n, got[i][0], got[i][1], mb.streamed[i][0], mb.streamed[i][1])
		}
	}
	var secs int64
	for _, sec := range run.Seconds {
		if sec.Requests == 0 && sec.Failures == 0 {
			continue
		}
		secs++
		if c := mb.perSec[sec.T]; c != [2]int64{sec.Requests, sec.Failures} {
			return fmt.Errorf("second %d: %d requests, %d failed; it streamed %d and %d", sec.T, sec.Requests, sec.Failures, c[0], c[1])
		}
	}
	for _, c := range mb.perSec {
		if c[0] != 0 || c[1] != 0 {
			secs--
		}
	}
	if secs != 0 {
		return errors.New("its seconds are not the ones it streamed")
	}
	return nil
}

// advance hands out, in order, the seconds and windows every running
// worker has reported; the callbacks run after the lock is released.
func (m *Master) advance() func() {
	if m.state == Waiting {
		return func() {}
	}
	secMark, winMark := int64(1<<62), int64(1<<62)
	running := 0
	for _, mb := range m.members {
		if mb.active() {
			running++
			secMark, winMark = min(secMark, mb.secMark), min(winMark, mb.winMark)
		}
	}
	if running == 0 {
		// Everyone finished or was lost: nothing more will come.
		secMark, winMark = int64(1<<62), int64(1<<62)
	}
	var ticks []engine.Tick
	var wins []tally.WindowStats
	for _, t := range slices.Sorted(maps.Keys(m.pending)) {
		if t >= secMark {
			continue
		}
		acc := m.pending[t]
		delete(m.pending, t)
		ss := acc.finish(t)
		m.doneReq += ss.Requests
		m.doneFail += ss.Failures
		m.completed.Store(m.doneReq)
		ticks = append(ticks, m.tick(ss, acc))
	}
	if secMark > m.secDone && secMark < 1<<62 {
		m.secDone = secMark
	}
	for _, t := range slices.Sorted(maps.Keys(m.wins)) {
		if t >= winMark {
			continue
		}
		wins = append(wins, m.wins[t].stats(t, m.names))
		delete(m.wins, t)
	}
	if winMark > m.winDone && winMark < 1<<62 {
		m.winDone = winMark
	}
	return func() {
		for _, ws := range wins {
			if m.cfg.OnWindow != nil {
				m.cfg.OnWindow(ws)
			}
		}
		for _, t := range ticks {
			if m.cfg.OnTick != nil {
				m.cfg.OnTick(t)
			}
		}
	}
}

// tick is the progress of the run as of a merged second.
func (m *Master) tick(ss tally.SecondStats, acc *secAcc) engine.Tick {
	shape := m.cfg.Plan.Shape
	elapsed := time.Since(m.start)
	stage := len(shape.Stages)
	for i, st := range shape.Stages {
		if elapsed < st.End {
			stage = i + 1
			break
		}
	}
	t := engine.Tick{Elapsed: elapsed, Total: shape.Duration(), Stage: stage, Stages: len(shape.Stages), Model: shape.Model,
		Second: ss, Requests: m.doneReq, Failures: m.doneFail, Rate: acc.sec.Rate}
	if shape.Model == lang.Closed {
		t.Target = engine.TargetUsers(shape, elapsed)
	}
	for _, mb := range m.members {
		if mb.active() {
			t.Workers++
			t.Users += mb.users
			t.InFlight += mb.inFlight
		}
	}
	return t
}

// Workers is every worker that joined so far, as the Run will record it.
func (m *Master) Workers() []result.Worker {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.workerLog()
}

// workerLog is the record of every worker that took part.
func (m *Master) workerLog() []result.Worker {
	var out []result.Worker
	for _, mb := range m.members {
		if mb.me < 0 {
			continue
		}
		w := result.Worker{ID: mb.id, Name: mb.join.Name, Host: mb.join.Host, Joined: mb.joined.UTC(), Lost: mb.lost}
		if !mb.left.IsZero() {
			w.Left = mb.left.UTC()
		}
		if mb.lost == "" {
			w.Share = engine.Share{Me: mb.me, Owners: m.owners}.Fraction()
		}
		if mb.final != nil {
			for _, q := range mb.final.Requests {
				w.Requests += q.Count
			}
		} else {
			for _, c := range mb.streamed {
				w.Requests += c[0]
			}
			w.LostArrivals = mb.lostArrivals
		}
		out = append(out, w)
	}
	return out
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonEncode(w, v)
}

var errNoWorkers = errors.New("no worker ran any part of the load")
