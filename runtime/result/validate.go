package result

import (
	"errors"
	"fmt"
)

// Validate checks that the run's counts add up: every request sent is
// recorded (Sent = Count), and each request's total equals the sum of its
// windows, of its per-second counts and of its failure reasons, as the
// run-wide seconds sum to the requests' totals. Write and Load call it: a
// run whose totals do not add up lost or invented requests, and no verdict
// on it can be trusted. Runs written before lab counted what it sent (no
// Sent) are checked for what they have.
func (r *Run) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	seen := map[string]bool{}
	counted := false // written by a lab that counts what it sends
	offers := false  // … and what it was offered (open model)
	var total, fails, offered, unsent int64
	failsBy := map[string]int64{}
	for _, f := range r.Failures {
		if f.Count < 0 {
			bad("failures: %s %q counts %d", f.Name, f.Reason, f.Count)
		}
		failsBy[f.Name] += f.Count
	}
	for _, q := range r.Requests {
		if q == nil {
			bad("a request entry is null")
			continue
		}
		if seen[q.Name] {
			bad("request %q is listed twice", q.Name)
		}
		seen[q.Name] = true
		total += q.Count
		fails += q.Failures
		errs = append(errs, q.validate(failsBy[q.Name], len(r.Failures) > 0 || q.Sent != nil)...)
		counted = counted || q.Sent != nil
		if q.Offered != nil {
			offers = true
			offered += *q.Offered
			unsent += q.Unsent
		}
	}
	for _, m := range r.Measures {
		errs = append(errs, m.validate()...)
	}
	if offers && (offered != r.Generator.Scheduled || unsent != r.Generator.Unsent) {
		bad("the requests were offered %d arrivals, %d of them unsent; the generator scheduled %d, %d unsent",
			offered, unsent, r.Generator.Scheduled, r.Generator.Unsent)
	}
	if offers && len(r.Seconds) > 0 {
		var due int64
		for _, s := range r.Seconds {
			due += s.Arrivals
		}
		if due != offered {
			bad("the per-second series counts %d arrivals due, the requests were offered %d", due, offered)
		}
	}
	if len(r.Seconds) > 0 || counted {
		var n, f int64
		prev := int64(-1 << 62)
		for _, s := range r.Seconds {
			if s.T <= prev {
				bad("seconds: second %d follows %d (listed twice or out of order)", s.T, prev)
			}
			prev = s.T
			n += s.Requests
			f += s.Failures
		}
		if n != total || f != fails {
			bad("the per-second series counts %d requests and %d failures; the requests total %d and %d", n, f, total, fails)
		}
	}
	return errors.Join(errs...)
}

// validate checks one request's counts; failed is the sum of its failure
// reasons, checked when the run lists reasons (haveReasons).
func (q *Request) validate(failed int64, haveReasons bool) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{q.Name}, args...)...))
	}
	switch {
	case q.Count < 0 || q.Failures < 0 || q.Timeouts < 0 || q.CutOff < 0 || q.Late < 0:
		bad("negative count")
		return errs
	case q.Failures > q.Count:
		bad("%d failures out of %d requests", q.Failures, q.Count)
	case q.Timeouts+q.CutOff > q.Failures:
		bad("%d timeouts and %d cut off, but only %d failures (both count as failures)", q.Timeouts, q.CutOff, q.Failures)
	}
	if q.Sent != nil && *q.Sent != q.Count {
		bad("%d requests sent, %d recorded: every request sent must end answered, failed or cut off", *q.Sent, q.Count)
	}
	if q.Offered != nil {
		var o, u int64
		for _, w := range q.Windows {
			if w.Offered < 0 || w.Unsent < 0 || w.Unsent > w.Offered {
				bad("window %d: %d offered, %d unsent", w.T, w.Offered, w.Unsent)
			}
			o += w.Offered
			u += w.Unsent
		}
		switch {
		case q.Unsent < 0 || q.Unsent > *q.Offered:
			bad("%d offered, %d unsent", *q.Offered, q.Unsent)
		case o != *q.Offered || u != q.Unsent:
			bad("windows count %d offered and %d unsent; the totals are %d and %d", o, u, *q.Offered, q.Unsent)
		case q.Sent != nil && *q.Offered-q.Unsent > *q.Sent:
			bad("%d offered arrivals were sent, but only %d requests", *q.Offered-q.Unsent, *q.Sent)
		}
	}
	if haveReasons && failed != q.Failures {
		bad("failure reasons count %d, failures %d", failed, q.Failures)
	}
	var n, f int64
	prev := int64(-1 << 62)
	for _, w := range q.Windows {
		if w.T <= prev {
			bad("window %d follows %d (listed twice or out of order)", w.T, prev)
		}
		prev = w.T
		if w.Count < 0 || w.Failures < 0 || w.Failures > w.Count || w.Timeouts < 0 || w.Timeouts > w.Failures {
			bad("window %d: %d requests, %d failures, %d timeouts", w.T, w.Count, w.Failures, w.Timeouts)
		}
		n += w.Count
		f += w.Failures
	}
	if n != q.Count || f != q.Failures {
		bad("windows count %d requests and %d failures; the totals are %d and %d", n, f, q.Count, q.Failures)
	}
	if len(q.PerSec) > 0 || q.Sent != nil {
		n, f = 0, 0
		prev := -1 << 62
		for _, s := range q.PerSec {
			if s[0] <= prev {
				bad("per-second count for second %d follows %d (listed twice or out of order)", s[0], prev)
			}
			prev = s[0]
			n += int64(s[1])
			f += int64(s[2])
		}
		if n != q.Count || f != q.Failures {
			bad("per-second counts sum to %d requests and %d failures; the totals are %d and %d", n, f, q.Count, q.Failures)
		}
	}
	if q.Hist != "" {
		h, err := Decode(q.Hist)
		switch {
		case err != nil:
			bad("whole-run histogram: %v", err)
		case h.TotalCount() != q.Count:
			bad("the whole-run histogram holds %d requests, the total is %d", h.TotalCount(), q.Count)
		}
	}
	return errs
}

// validate checks that a measure's histogram reads and holds its count,
// and that its figures can be figures of that many values.
func (m *Measure) validate() []error {
	if m == nil {
		return []error{errors.New("a measure entry is null")}
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("measure %q: "+format, append([]any{m.Name}, args...)...))
	}
	if m.Count < 0 || m.Missing < 0 {
		bad("counts %d values and %d missing", m.Count, m.Missing)
	}
	if m.Count > 0 && (m.Min < 0 || m.Max < m.Min || m.Sum < m.Min*float64(m.Count)*(1-1e-9) || m.Sum > m.Max*float64(m.Count)*(1+1e-9)) {
		bad("min %g, max %g and sum %g cannot be of %d values", m.Min, m.Max, m.Sum, m.Count)
	}
	h, err := DecodeMeasure(m.Hist)
	switch {
	case err != nil:
		bad("%v", err)
	case h.TotalCount() != m.Count:
		bad("its histogram holds %d values, its count is %d", h.TotalCount(), m.Count)
	}
	if len(m.Windows) > 0 {
		var n int64
		for i, w := range m.Windows {
			wh, err := DecodeMeasure(w.Hist)
			switch {
			case err != nil:
				bad("window %d: %v", w.T, err)
			case w.Count <= 0 || wh.TotalCount() != w.Count:
				bad("window %d counts %d values, its histogram %d", w.T, w.Count, wh.TotalCount())
			case i > 0 && w.T <= m.Windows[i-1].T:
				bad("window %d comes after window %d", w.T, m.Windows[i-1].T)
			}
			n += w.Count
		}
		if n != m.Count {
			bad("its windows hold %d values, its count is %d", n, m.Count)
		}
	}
	return errs
}
