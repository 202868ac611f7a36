// Package lang is the plan language: it reads a plan written in HCL (and the
// workload file it refers to), resolves its variables, checks every part, and
// returns a validated Plan. It knows nothing of HTTP or of budgets' meaning:
// the runtime turns a Plan into running users, the gates judge a finished Run
// against the Plan's budgets.
//
// Every user mistake is an hcl.Diagnostic with the range it concerns, so that
// `lab plan` can print file:line:column, the source line and a suggestion.
package lang

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Plan is a validated plan: every value resolved, every unit parsed, every
// reference checked. Dynamic parts of requests stay compiled expressions
// (Value) that the runtime evaluates per request.
type Plan struct {
	Name    string            // the plan file's base name without .hcl: "spike"
	File    string            // the plan file's path as given
	Sources map[string][]byte // every file the plan read, by path: what a worker needs to load the same plan

	Vars      []*Variable // declared variables with their resolved values, by name
	Seed      uint64      // the seed of every random choice the run makes
	SUT       *SUT        // the bundled shop to start, or nil
	Workload  *Workload
	Shapes    []*Shape // every declared shape, in file order
	Shape     *Shape   // the shape this run uses
	ShapeFrom string   // what picked Shape: "only shape", "run.shape", "LAB_SHAPE", "--shape"
	// ReadsOutside: the plan reads a file outside its folder, as
	// Options.AllowOutside let it; whatever loads it again needs the same.
	ReadsOutside bool
	SLAs         []*SLA
	Leak         *Leak       // nil when the plan has no leak block
	Regression   *Regression // nil when the plan has no regression block
	// Measures is every measure a request takes, by name, with the budgets
	// of the measure blocks.
	Measures []*Measure
	Topology Topology

	env *env // what per-request expressions read besides their user's scope
}

// Variable is a declared variable and the value this plan was loaded with.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	Value       cty.Value
	Source      string // "default", "-var", "-var-file FILE", "env LAB_VAR_name"
	Sensitive   bool   // a secret: never printed, never stored with the run
	DefRange    hcl.Range
}

// Redacted stands for a sensitive variable's value and a secret header's.
const Redacted = "(sensitive)"

// Text is the variable's value as HCL would write it, or Redacted.
func (v *Variable) Text() string {
	if v.Sensitive {
		return Redacted
	}
	return ValueText(v.Value)
}

// Workload is where the requests go and which users send them. Requests
// lists their names, "METHOD name" (name defaults to the path template),
// which budgets refer to.
type Workload struct {
	Name           string
	Source         string // the file the user classes were read from
	Host           string // as written: "http://127.0.0.1:8080"
	Scheme         string // "http" or "https"
	Addr           string // host:port to dial
	Prefix         string // a path prefix every request's path follows ("/api"), or ""
	Timeout        time.Duration
	MaxConnections int
	Headers        []Pair     // sent with every request (static)
	Cookies        CookieMode // the user classes' default
	// InsecureSkipVerify accepts any TLS certificate (a test
	// environment's self-signed one), as k6's insecureSkipTLSVerify.
	InsecureSkipVerify bool
	Redirects          int // the requests' default: how many redirects to follow
	// Setup is sent once before the load starts, Teardown once after it
	// ends, outside every statistic; what Setup captures every request
	// reads as setup.NAME.
	Setup, Teardown []*Request
	Users           []*UserClass
	Requests        []string // every request name a task sends, sorted
}

// UserClass is one kind of virtual user: its share of the users, how long it
// waits between passes, and the tasks it picks from by weight.
type UserClass struct {
	Name    string
	Weight  int
	Wait    Wait
	Cookies CookieMode
	// Target is the class's own host (host on the user block), nil when
	// it sends to the workload's.
	Target *Target
	// Start is the steps a user runs once before its first pass (in the
	// open model, every arrival is a new user and runs them); a failed
	// start is tried again after the user's wait.
	Start []*Request
	// StartPass is drawn once, as the user starts: kept for its life,
	// read as captured.NAME. StartGoOn: a failed start step does not stop
	// the start, and the user goes on to its passes (on_failure =
	// "continue"), rather than trying the start again.
	StartPass []*PassValue
	StartGoOn bool
	Tasks     []*Task
	Range     hcl.Range
}

// MaxBatch is the most requests one user sends at once: the largest
// batch of any task or start block, 1 without batches.
func (w *Workload) MaxBatch() int {
	n := 1
	for _, u := range w.Users {
		for _, r := range u.Start {
			n = max(n, r.Batch)
		}
		for _, t := range u.Tasks {
			for _, r := range t.Steps {
				n = max(n, r.Batch)
			}
		}
	}
	return n
}

// TaskWeight is the sum of the class's task weights.
func (u *UserClass) TaskWeight() int {
	n := 0
	for _, t := range u.Tasks {
		n += t.Weight
	}
	return n
}

// WaitKind says how a user waits between passes.
type WaitKind int

const (
	WaitNone     WaitKind = iota // no wait: the next pass starts at once
	WaitConstant                 // Min after each pass
	WaitBetween                  // uniform in [Min, Max] after each pass
	WaitPacing                   // passes start every Min (constant throughput): wait what is left
)

// Wait is a wait time: constant("1s"), between("1s", "3s") or pacing("2s").
type Wait struct {
	Kind     WaitKind
	Min, Max time.Duration
}

// Mean is the average wait after a pass that took no time.
func (w Wait) Mean() time.Duration {
	switch w.Kind {
	case WaitConstant, WaitPacing:
		return w.Min
	case WaitBetween:
		return (w.Min + w.Max) / 2
	}
	return 0
}

// Task is what a user does in one pass: one request, or an ordered sequence
// of steps (a funnel) that stops at the first failed step.
type Task struct {
	Name     string
	Weight   int
	Sequence bool
	Pass     []*PassValue // drawn at the start of every pass
	// GoOn: a failed step does not end the pass (on_failure = "continue",
	// as Locust and k6 go on after a failed request).
	GoOn  bool
	Steps []*Request // one for a plain task
	Range hcl.Range
}

// Request is one HTTP request a task or a step sends, with its checks and
// the values it captures for later steps.
type Request struct {
	Step    string // the task's or step's name
	Name    string // the stats key: "POST /checkout"
	Method  string
	Path    *Value // path and query, relative to the workload's host
	Query   []Pair // extra query parameters
	Headers []Pair
	Body    *Body // nil for none
	Timeout time.Duration
	// Redirects is how many redirects to the workload's host to follow
	// (0: none, the 3xx is the answer); the chain is timed as one request.
	Redirects int
	// Target is the request's own host (host on the task or step), nil
	// when it goes to its user class's (Workload.RequestTarget).
	Target *Target
	// DropCookies are taken out of the user's jar before the request is
	// built (drop_cookies): a new login that must not carry the old session.
	DropCookies []string
	Think       Wait // wait before this step (sequences only); a batch's is on its first step
	// Batch, on the first step of a batch block, is how many steps (this
	// one and those after it) are sent at once; the pass waits for them
	// all before it goes on. 0 on every other step. InBatch marks every
	// step of a batch.
	Batch   int
	InBatch bool
	// Repeat is how many times the request is sent in a row (nil: once),
	// drawn when the pass reaches it; repeat.index counts from 0.
	Repeat  *Value
	repeatN int // Repeat's value when static, -1 when drawn per pass
	// When decides, each time a pass reaches the request, whether it is
	// sent (nil: always); a false one counts as skipped.
	When     *Value
	Expect   Expect
	Captures []*Capture
	// CaptureFailed: the captures read an answer that failed its checks
	// too (capture_failed), as k6 and Locust read a failed answer anyway;
	// the request still counts as failed. No answer (a transport error),
	// no capture.
	CaptureFailed bool
	// Measures are numbers taken from each answer that passed its
	// checks (measure = { … }), recorded apart by name (Plan.Measures).
	Measures []*MeasureValue
	Range    hcl.Range
}

// Pair is a name and a value: a header, a query or form parameter.
type Pair struct {
	Key   string
	Value *Value
	// Secret pairs are sent but never printed: headers that carry
	// credentials by their name, and any value made from a sensitive
	// variable.
	Secret bool
	Range  hcl.Range // the value's expression
}

// Text is the pair's value as the plan writes it, or Redacted.
func (p Pair) Text() string {
	if p.Secret {
		return Redacted
	}
	return p.Value.StaticText()
}

// SecretRanges are where the plan's files write the values of secret
// pairs, so that a stored copy of the sources can blank them.
func (p *Plan) SecretRanges() []hcl.Range {
	var out []hcl.Range
	add := func(ps []Pair) {
		for _, pr := range ps {
			if pr.Secret {
				out = append(out, pr.Range)
			}
		}
	}
	if w := p.Workload; w != nil {
		add(w.Headers)
		for _, u := range w.Users {
			for _, t := range u.Tasks {
				for _, r := range t.Steps {
					add(r.Headers)
					add(r.Query)
					if r.Body != nil {
						add(r.Body.Form)
					}
				}
			}
		}
	}
	return out
}

// secretHeaders carry credentials whatever their value.
var secretHeaders = map[string]bool{"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true}

// BodyKind says how a request body is encoded.
type BodyKind int

const (
	BodyJSON BodyKind = iota + 1
	BodyForm
	BodyRaw
	BodyMultipart
)

// Body is a request body: JSON from an HCL value, a URL-encoded form, or raw text.
type Body struct {
	Kind        BodyKind
	ContentType string
	Value       *Value // JSON and raw bodies
	Form        []Pair // form and multipart bodies (a multipart file part's value is a file_part)
}

// Expect is what a response must satisfy to count as a success. With no
// status listed, any status below 400 passes.
type Expect struct {
	Status       []int
	JSONPresent  []JSONPath
	JSONEquals   []JSONEquals
	BodyContains []string
	MaxLatency   time.Duration // 0 = none
	// Headers the response must carry with these values (names in lower
	// case), Cookies it must set, and That, conditions over the response,
	// the captures and the pass's values that must all hold.
	Headers []HeaderEquals
	Cookies []string
	That    []*Value
}

// HeaderEquals is a header a response must carry, with its value.
type HeaderEquals struct {
	Name, Value string
}

// JSONPath is a dotted path into a JSON document: "order.items.0.id".
type JSONPath struct {
	Text     string
	Segments []string
}

// JSONEquals requires the value at Path to equal Value.
type JSONEquals struct {
	Path  JSONPath
	Value cty.Value
	JSON  []byte // Value encoded as JSON, for comparison and messages
}

// Capture keeps a value of a response for the later steps of the same pass.
type Capture struct {
	Name  string
	Value *Value // evaluated with `response` in scope
}

// Model is the load model of a shape.
type Model int

const (
	Closed Model = iota + 1 // a number of users, each looping over passes
	Open                    // arrivals at a rate, whatever the latency
)

func (m Model) String() string {
	switch m {
	case Closed:
		return "closed"
	case Open:
		return "open"
	}
	return "unknown"
}

// Shape is a named load shape: stages run one after another.
type Shape struct {
	Name        string
	Model       Model
	Stages      []Stage
	Scale       float64 // factor applied to the written stage times (1 when not scaled)
	MaxInFlight int     // open model: arrivals in flight at most
	// Iterations (closed model): each user runs this many passes, then
	// stops; SharedIterations: the users run this many passes between
	// them. Either ends the run once every user has stopped. 0: none.
	Iterations, SharedIterations int
	Range                        hcl.Range
}

// Duration is the shape's total length: the end of its last stage.
func (s *Shape) Duration() time.Duration {
	if len(s.Stages) == 0 {
		return 0
	}
	return s.Stages[len(s.Stages)-1].End
}

// Stage is one stage of a shape. A closed stage moves the number of users to
// Users at SpawnRate per second (0 = at once) and holds it until End; an open
// stage sends Rate arrivals per second until End (ramping linearly from the
// previous stage's rate when Ramp is set).
type Stage struct {
	Start, End time.Duration
	Users      int
	SpawnRate  float64
	Rate       float64
	Ramp       bool
	Range      hcl.Range
}

// SLA is a budget for one request name, for each name a glob matches, for the
// matched names together (Aggregate), or for all requests together (All).
type SLA struct {
	Label       string   // as written: "GET /products/*", "all"
	All         bool     // every request together
	Aggregate   bool     // the matched requests judged together
	Matches     []string // request names the label matches, sorted
	Percentiles []PercentileBudget
	Avg         time.Duration // the mean latency's budget; 0 = none
	Max         time.Duration // 0 = none
	ErrorRate   *float64
	MinRPS      *float64
	Window      time.Duration // 0 = the whole run only
	AbortAfter  int           // abort after this many consecutive breached windows; 0 = never
	Breach      Breach        // when a measured value over its budget fails
	// Stage and StageLast are the 1-based stages of the plan's shape
	// (consecutive; equal for one) whose span alone the budget judges
	// (k6's per-scenario thresholds); 0: the whole run. StageFrom and
	// StageTo are that span, from the run's start.
	Stage, StageLast   int
	StageFrom, StageTo time.Duration
	Range              hcl.Range
	stageRange         hcl.Range
}

// StageText names the stages a stage budget judges: "stage 2",
// "stages 3–5"; "" for the whole run.
func (s *SLA) StageText() string {
	switch {
	case s.Stage == 0:
		return ""
	case s.StageLast > s.Stage:
		return fmt.Sprintf("stages %d–%d", s.Stage, s.StageLast)
	}
	return fmt.Sprintf("stage %d", s.Stage)
}

// Breach is an SLA's rule for when a percentile or error rate over its
// budget fails the run.
type Breach string

const (
	// BreachMeasured: a measured value over its budget fails, as a reader
	// of the table expects; the verdict says how likely chance was.
	BreachMeasured Breach = "measured"
	// BreachSignificant: over the budget fails only when chance cannot
	// explain the excess (one-sided binomial p < 0.01 at the budget's
	// allowed share); otherwise the verdict is advisory. An explicit
	// opt-in, for budgets judged on few requests.
	BreachSignificant Breach = "significant"
)

// PercentileBudget says the P-th percentile of latency must stay at or below Max.
type PercentileBudget struct {
	P    float64 // 0 < P < 100
	Name string  // as written: "p95", "p99_9"
	Max  time.Duration
}

// MemoryKind is where the leak hunter reads memory from.
type MemoryKind string

const (
	MemorySUT       MemoryKind = "sut"       // the bundled shop: its /metrics heap_live, else its process
	MemoryPID       MemoryKind = "pid"       // /proc/PID/status
	MemoryCgroup    MemoryKind = "cgroup"    // a cgroup v2 directory's memory.stat
	MemoryContainer MemoryKind = "container" // a Docker container, through the engine's API
	MemoryMetrics   MemoryKind = "metrics"   // a Prometheus text endpoint and a metric name
)

// MemorySource names what to sample.
type MemorySource struct {
	Kind   MemoryKind
	Name   string // sut or container name
	PID    int
	Path   string // cgroup directory
	URL    string // metrics endpoint
	Metric string // metric name at URL
}

// Leak holds the leak hunter's thresholds.
type Leak struct {
	Memory        MemorySource
	Warmup        time.Duration // 0 = the hunter's default
	Window        time.Duration // 0 = the hunter's default
	MaxGrowthRate float64       // bytes per second; 0 = not set
	MaxGrowth     int64         // bytes; 0 = the hunter's default
	Range         hcl.Range
}

// Regression holds the thresholds of the run-over-run comparison.
type Regression struct {
	Baseline     string  // a Run directory, or a results/<plan> folder whose `baseline` or latest run is used
	P95Growth    float64 // ratio: 0.1 = 10%
	RPSDrop      float64
	ErrorRateInc float64
	Range        hcl.Range
}

// Topology is how many workers generate the load and how they are managed.
type Topology struct {
	Workers      int    // 1 = this process alone
	Master       string // address the master listens on for workers
	OnWorkerLoss string // "fail" or "continue" (the others take its part)
	// Placement are Swarm placement constraints for the workers, like
	// "node.labels.lab == worker" (the Compose file's worker service).
	Placement []string
}
