package lang

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The raw forms below are what gohcl decodes a file into: structure only.
// Every attribute stays an hcl.Expression so that the decoder evaluates it
// itself with the right scope and reports mistakes at the expression's range.

type rawPlan struct {
	Variables  []*rawVariable `hcl:"variable,block"`
	Locals     []*rawLocals   `hcl:"locals,block"`
	Run        *rawRun        `hcl:"run,block"`
	SUTs       []*rawSUT      `hcl:"sut,block"`
	Workloads  []*rawWorkload `hcl:"workload,block"`
	Shapes     []*rawShape    `hcl:"shape,block"`
	ShapeFiles []*rawShapes   `hcl:"shapes,block"`
	SLAs       []*rawSLA      `hcl:"sla,block"`
	Leak       *rawLeak       `hcl:"leak,block"`
	Regression *rawRegression `hcl:"regression,block"`
	Measures   []*rawMeasure  `hcl:"measure,block"`
	Topology   *rawTopology   `hcl:"topology,block"`
}

type rawVariable struct {
	Name        string         `hcl:"name,label"`
	Type        hcl.Expression `hcl:"type,optional"`
	Default     hcl.Expression `hcl:"default,optional"`
	Description hcl.Expression `hcl:"description,optional"`
	Sensitive   hcl.Expression `hcl:"sensitive,optional"`
	DefRange    hcl.Range      `hcl:",def_range"`
}

type rawRun struct {
	Shape     hcl.Expression `hcl:"shape,optional"`
	Seed      hcl.Expression `hcl:"seed,optional"`
	SLABreach hcl.Expression `hcl:"sla_breach,optional"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

type rawSUT struct {
	Name     string    `hcl:"name,label"`
	Body     hcl.Body  `hcl:",remain"`
	DefRange hcl.Range `hcl:",def_range"`
}

type rawWorkload struct {
	Name           string         `hcl:"name,label"`
	Source         hcl.Expression `hcl:"source,optional"`
	Host           hcl.Expression `hcl:"host"`
	Timeout        hcl.Expression `hcl:"timeout,optional"`
	MaxConnections hcl.Expression `hcl:"max_connections,optional"`
	Headers        hcl.Expression `hcl:"headers,optional"`
	Cookies        hcl.Expression `hcl:"cookies,optional"`
	Insecure       hcl.Expression `hcl:"insecure_skip_verify,optional"`
	Redirects      hcl.Expression `hcl:"redirects,optional"`
	Setup          *rawStart      `hcl:"setup,block"`
	Teardown       *rawStart      `hcl:"teardown,block"`
	Users          []*rawUser     `hcl:"user,block"`
	DefRange       hcl.Range      `hcl:",def_range"`
}

// rawWorkloadFile is a workload file: user classes only, so that one
// reviewed workload serves every scenario.
type rawWorkloadFile struct {
	Setup    *rawStart  `hcl:"setup,block"`
	Teardown *rawStart  `hcl:"teardown,block"`
	Users    []*rawUser `hcl:"user,block"`
}

type rawUser struct {
	Name      string         `hcl:"name,label"`
	Weight    hcl.Expression `hcl:"weight,optional"`
	Wait      hcl.Expression `hcl:"wait,optional"`
	Cookies   hcl.Expression `hcl:"cookies,optional"`
	Host      hcl.Expression `hcl:"host,optional"`
	Start     *rawStart      `hcl:"start,block"`
	Tasks     []*rawTask     `hcl:"task,block"`
	Sequences []*rawSequence `hcl:"sequence,block"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

// rawLocals is a locals block: values computed once at load.
type rawLocals struct {
	Body hcl.Body `hcl:",remain"`
}

// rawPass is a pass block: values drawn anew at every pass.
type rawPass struct {
	Body     hcl.Body  `hcl:",remain"`
	DefRange hcl.Range `hcl:",def_range"`
}

type rawTask struct {
	Name     string         `hcl:"name,label"`
	Weight   hcl.Expression `hcl:"weight,optional"`
	Pass     *rawPass       `hcl:"pass,block"`
	Repeat   hcl.Expression `hcl:"repeat,optional"`
	When     hcl.Expression `hcl:"when,optional"`
	ForEach  hcl.Expression `hcl:"for_each,optional"`
	Request  hcl.Body       `hcl:",remain"`
	DefRange hcl.Range      `hcl:",def_range"`
	each     cty.Value      // the for_each element this copy is for
}

type rawSequence struct {
	Name      string         `hcl:"name,label"`
	Weight    hcl.Expression `hcl:"weight,optional"`
	OnFailure hcl.Expression `hcl:"on_failure,optional"`
	Pass      *rawPass       `hcl:"pass,block"`
	Steps     []*rawStep     `hcl:"step,block"`
	Batches   []*rawBatch    `hcl:"batch,block"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

// rawBatch is steps sent at once, in a sequence or a start block: the
// pass waits for every one of them (k6's http.batch).
type rawBatch struct {
	Think    hcl.Expression `hcl:"think,optional"`
	Steps    []*rawStep     `hcl:"step,block"`
	DefRange hcl.Range      `hcl:",def_range"`
}

// rawStart is a user's start block: steps run once, before its first
// pass (Locust's on_start), whose captures last for the user's life.
type rawStart struct {
	OnFailure hcl.Expression `hcl:"on_failure,optional"`
	Pass      *rawPass       `hcl:"pass,block"`
	Steps     []*rawStep     `hcl:"step,block"`
	Batches   []*rawBatch    `hcl:"batch,block"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

type rawStep struct {
	Name     string         `hcl:"name,label"`
	Think    hcl.Expression `hcl:"think,optional"`
	Repeat   hcl.Expression `hcl:"repeat,optional"`
	When     hcl.Expression `hcl:"when,optional"`
	ForEach  hcl.Expression `hcl:"for_each,optional"`
	Request  hcl.Body       `hcl:",remain"`
	DefRange hcl.Range      `hcl:",def_range"`
	each     cty.Value      // the for_each element this copy is for
}

// rawRequest is the body of a task or a step: one request.
type rawRequest struct {
	Get       hcl.Expression `hcl:"get,optional"`
	Post      hcl.Expression `hcl:"post,optional"`
	Put       hcl.Expression `hcl:"put,optional"`
	Patch     hcl.Expression `hcl:"patch,optional"`
	Delete    hcl.Expression `hcl:"delete,optional"`
	Head      hcl.Expression `hcl:"head,optional"`
	Options   hcl.Expression `hcl:"options,optional"`
	Method    hcl.Expression `hcl:"method,optional"`
	Path      hcl.Expression `hcl:"path,optional"`
	Name      hcl.Expression `hcl:"name,optional"`
	Query     hcl.Expression `hcl:"query,optional"`
	Headers   hcl.Expression `hcl:"headers,optional"`
	JSON      hcl.Expression `hcl:"json,optional"`
	Form      hcl.Expression `hcl:"form,optional"`
	Multipart hcl.Expression `hcl:"multipart,optional"`
	Body      hcl.Expression `hcl:"body,optional"`
	Timeout   hcl.Expression `hcl:"timeout,optional"`
	Capture   hcl.Expression `hcl:"capture,optional"`
	// CaptureFailed reads the answer's captures even when it failed its
	// checks.
	CaptureFailed hcl.Expression `hcl:"capture_failed,optional"`
	Measure       hcl.Expression `hcl:"measure,optional"`
	Redirects     hcl.Expression `hcl:"redirects,optional"`
	Host          hcl.Expression `hcl:"host,optional"`
	Drop          hcl.Expression `hcl:"drop_cookies,optional"`
	Expect        *rawExpect     `hcl:"expect,block"`
}

type rawExpect struct {
	Status       hcl.Expression `hcl:"status,optional"`
	JSON         hcl.Expression `hcl:"json,optional"`
	BodyContains hcl.Expression `hcl:"body_contains,optional"`
	MaxLatency   hcl.Expression `hcl:"max_latency,optional"`
	Headers      hcl.Expression `hcl:"headers,optional"`
	Cookies      hcl.Expression `hcl:"cookies,optional"`
	That         hcl.Expression `hcl:"that,optional"`
	DefRange     hcl.Range      `hcl:",def_range"`
}

type rawShape struct {
	Name             string         `hcl:"name,label"`
	Duration         hcl.Expression `hcl:"duration,optional"`
	MaxInFlight      hcl.Expression `hcl:"max_in_flight,optional"`
	Iterations       hcl.Expression `hcl:"iterations,optional"`
	SharedIterations hcl.Expression `hcl:"shared_iterations,optional"`
	Stages           []*rawStage    `hcl:"stage,block"`
	DefRange         hcl.Range      `hcl:",def_range"`
}

// rawShapes is a shapes block: the plan's shapes read from a shapes file,
// so that scenarios share one reviewed set of load shapes.
type rawShapes struct {
	Source   hcl.Expression `hcl:"source"`
	DefRange hcl.Range      `hcl:",def_range"`
}

// rawShapesFile is a shapes file: shape blocks only.
type rawShapesFile struct {
	Shapes []*rawShape `hcl:"shape,block"`
}

type rawStage struct {
	Until     hcl.Expression `hcl:"until"`
	Users     hcl.Expression `hcl:"users,optional"`
	SpawnRate hcl.Expression `hcl:"spawn_rate,optional"`
	Rate      hcl.Expression `hcl:"rate,optional"`
	Ramp      hcl.Expression `hcl:"ramp,optional"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

// rawSLA keeps its body: its attributes are percentiles by name (p95,
// p99_9, …) besides a fixed set, so the decoder reads them one by one.
type rawSLA struct {
	Label    string    `hcl:"name,label"`
	Body     hcl.Body  `hcl:",remain"`
	DefRange hcl.Range `hcl:",def_range"`
}

type rawLeak struct {
	Memory        hcl.Expression `hcl:"memory"`
	Warmup        hcl.Expression `hcl:"warmup,optional"`
	Window        hcl.Expression `hcl:"window,optional"`
	MaxGrowthRate hcl.Expression `hcl:"max_growth_rate,optional"`
	MaxGrowth     hcl.Expression `hcl:"max_growth,optional"`
	DefRange      hcl.Range      `hcl:",def_range"`
}

type rawRegression struct {
	Baseline     hcl.Expression `hcl:"baseline"`
	P95Growth    hcl.Expression `hcl:"p95_growth,optional"`
	RPSDrop      hcl.Expression `hcl:"rps_drop,optional"`
	ErrorRateInc hcl.Expression `hcl:"error_rate_inc,optional"`
	DefRange     hcl.Range      `hcl:",def_range"`
}

type rawTopology struct {
	Workers      hcl.Expression `hcl:"workers,optional"`
	Master       hcl.Expression `hcl:"master,optional"`
	OnWorkerLoss hcl.Expression `hcl:"on_worker_loss,optional"`
	Placement    hcl.Expression `hcl:"placement,optional"`
	DefRange     hcl.Range      `hcl:",def_range"`
}

// present tells a written attribute from the null that gohcl puts in place
// of a missing optional one: only written ones come from the native syntax.
func present(expr hcl.Expression) bool {
	if expr == nil {
		return false
	}
	_, ok := expr.(hclsyntax.Expression)
	return ok
}
