package lang

import (
	"slices"
	"sort"
	"time"
)

// A Pulse is what one pulse of `lab hunt` sends: the first Steps steps of
// task Task of user class Class (indexes into the workload).
type Pulse struct {
	Class, Task, Steps int
}

// Pulsed is the plan cut down to what pulse u sends (nil: the whole
// workload), as an open shape of rate passes per second for d, with no
// budgets. The users' start steps stay (a pass may need them), as do the
// setup's values and the variables: the pulse is the plan's own requests,
// fewer of them. The plan itself is not changed.
func (p *Plan) Pulsed(u *Pulse, rate float64, d time.Duration) *Plan {
	q := *p
	w := *p.Workload
	if u != nil {
		c := *w.Users[u.Class]
		t := *c.Tasks[u.Task]
		t.Steps = slices.Clone(t.Steps[:u.Steps])
		// A batch cut short sends the steps it keeps, at once.
		for i, r := range t.Steps {
			if r.Batch > 1 && i+r.Batch > len(t.Steps) {
				cut := *r
				cut.Batch = len(t.Steps) - i
				t.Steps[i] = &cut
			}
		}
		t.Weight = 1
		c.Tasks = []*Task{&t}
		c.Weight = 1
		w.Users = []*UserClass{&c}
		w.Requests = requestNames(w.Users)
	}
	q.Workload = &w
	q.Shape = &Shape{
		Name: "pulse", Model: Open, Scale: 1, MaxInFlight: DefaultMaxInFlight,
		Stages: []Stage{{End: d, Rate: rate}},
	}
	q.Shapes = []*Shape{q.Shape}
	q.SLAs, q.Regression = nil, nil
	q.Topology.Workers = 1
	return &q
}

// requestNames is every request name the classes send, sorted.
func requestNames(users []*UserClass) []string {
	seen := map[string]bool{}
	var names []string
	add := func(r *Request) {
		if !seen[r.Name] {
			seen[r.Name] = true
			names = append(names, r.Name)
		}
	}
	for _, u := range users {
		for _, r := range u.Start {
			add(r)
		}
		for _, t := range u.Tasks {
			for _, r := range t.Steps {
				add(r)
			}
		}
	}
	sort.Strings(names)
	return names
}
