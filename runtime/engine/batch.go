package engine

import (
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"lab/lang"
)

// A batch's steps are sent at once and the pass waits for them all (k6's
// http.batch, a browser loading a page's assets). The user's scope is not
// safe for concurrent use, so only the wire is concurrent: the requests
// are built one after another before any is sent (a batch's steps never
// read each other's captures: the plan refuses it), and their answers are
// judged, captured and recorded one after another, in the plan's order,
// once the last has come. Each step has its own flight, so that the end of
// the run finds every request still on the wire; an answer that came
// before the cut but was not yet recorded is recorded as cut off, like
// the request still in flight that the pass waits for (the count stays
// exact).

// member is one step of a batch being sent.
type member struct {
	st         *step
	f          *flight
	req        *fasthttp.Request
	resp       *fasthttp.Response
	built, err error
	begun      bool
	done       time.Duration
}

// batchFlights is f and the flights the other steps of a batch of n go
// through: kept with f, for the sender's life.
func (e *Engine) batchFlights(f *flight, n int) []*flight {
	for len(f.batch) < n-1 {
		f.batch = append(f.batch, e.flights.add())
	}
	return append([]*flight{f}, f.batch[:n-1]...)
}

// sendBatch sends the steps rs (a batch: rs[0].Batch of them) at once for
// the user with scope s and waits for every answer. A step whose when is
// false is skipped, as a step outside a batch is. It tells whether every
// request sent succeeded; every step is sent whatever its siblings did.
func (e *Engine) sendBatch(rs []*lang.Request, s *lang.Scope, shard int, intended time.Duration, scratch *[]byte, f *flight) bool {
	flights := e.batchFlights(f, len(rs))
	ms := make([]member, 0, len(rs))
	defer func() {
		for _, m := range ms {
			fasthttp.ReleaseRequest(m.req)
			fasthttp.ReleaseResponse(m.resp)
		}
	}()
	for i, r := range rs {
		st := e.steps[r]
		if r.When != nil {
			send, err := r.Sends(s)
			if err != nil {
				s.SetPending(err) // the step fails, unsent
			} else if !send {
				f.skipped(st.name)
				continue
			}
		}
		m := member{st: st, f: flights[i], req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse()}
		*scratch, m.built = st.cl.build(m.req, st, s, *scratch)
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return true
	}
	sent := e.since()
	if intended == fromSend || intended > sent {
		intended = sent
	}
	if e.lapsed(sent) {
		return false
	}
	for i := range ms {
		ms[i].begun = ms[i].f.begin(ms[i].st.name, intended)
	}
	var jar sync.Mutex
	var wg sync.WaitGroup
	wire := func(m *member) {
		m.err = e.wire(m.st, s, m.req, m.resp, m.f, sent, &jar)
		m.done = e.since()
	}
	for i := 1; i < len(ms); i++ {
		if m := &ms[i]; m.begun && m.built == nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wire(m)
			}()
		}
	}
	if m := &ms[0]; m.begun && m.built == nil {
		wire(m)
	}
	wg.Wait()
	ok := true
	for i := range ms {
		m := &ms[i]
		switch {
		case !m.begun:
			ok = false // the run is over: not sent
		case m.built != nil:
			ok = e.notBuilt(m.st, m.f, shard, sent, m.built) && ok
		default:
			ok = e.judge(m.st, s, shard, m.f, m.resp, m.err, intended, sent, m.done) && ok
		}
	}
	return ok
}
