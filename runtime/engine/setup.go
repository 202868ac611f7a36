package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"lab/lang"
)

// RunSteps sends steps once, in order, outside any run and any statistic:
// a workload's setup before the load, its teardown after. Each follows its
// redirects, keeps cookies for the next (a setup that logs in), and must
// meet its expectations; the first that does not stops the steps, with
// which request and why. What they capture stays in s.
func RunSteps(ctx context.Context, p *lang.Plan, steps []*lang.Request, s *lang.Scope) error {
	own := p.Workload.TargetOf(nil)
	clients := map[string]*client{}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	var scratch []byte
	for _, r := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := p.Workload.RequestTarget(nil, r)
		c := clients[t.Host]
		if c == nil {
			c = newClient(p.Workload, t, 1)
			clients[t.Host] = c
		}
		// The jar holds the workload's host's cookies: another host is
		// sent none of them and sets none.
		cookies := lang.CookiesUser
		if t.Host != own.Host {
			cookies = lang.CookiesNone
		}
		st := newStep(r, 0, cookies, p.Workload, c)
		req.Reset()
		resp.Reset()
		var err error
		if scratch, err = c.build(req, st, s, scratch); err != nil {
			return fmt.Errorf("%s (%s): request not built: %v", r.Step, r.Name, err)
		}
		start := time.Now()
		deadline := start.Add(st.timeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		err = c.hc.DoDeadline(req, resp, deadline)
		if err == nil && r.Redirects > 0 {
			err = c.follow(req, resp, st, s, nil, deadline, nil)
		}
		if err != nil {
			reason, _ := errorReason(err, st)
			return fmt.Errorf("%s (%s): %s", r.Step, r.Name, reason)
		}
		if st.jar {
			keepCookies(s, resp)
		}
		if reason := c.check(st, resp, time.Since(start), s); reason != "" {
			return fmt.Errorf("%s (%s): %s", r.Step, r.Name, reason)
		}
		if reason := capture(st, s, resp); reason != "" {
			return fmt.Errorf("%s (%s): %s", r.Step, r.Name, reason)
		}
	}
	return nil
}
