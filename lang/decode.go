package lang

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"lab/lang/units"
)

// decoder turns one parsed plan into a Plan, collecting every diagnostic
// rather than stopping at the first.
type decoder struct {
	loader     *Loader
	path       string
	dir        string
	diags      hcl.Diagnostics
	env        *env
	static     *hcl.EvalContext
	trial      *hcl.EvalContext
	varNames   []string
	sutNames   []string
	localNames []string
	setupNames map[string]bool // what the workload's setup captures
	// each is the for_each element being decoded ({key, value}), in the
	// static and trial contexts meanwhile; cty.NilVal outside a for_each.
	each cty.Value
	// readsOutside: a file outside the plan's folder was read (allowed).
	readsOutside bool
	// sensitiveVars are the variables declared sensitive = true.
	sensitiveVars map[string]bool
	// sensitiveLocals are the locals made from a sensitive variable.
	sensitiveLocals map[string]bool
}

func (d *decoder) decodePlan(f *hcl.File) *Plan {
	var raw rawPlan
	d.diags = append(d.diags, gohcl.DecodeBody(f.Body, nil, &raw)...)
	plan := &Plan{Name: PlanName(d.path), File: d.path, Seed: 1}

	funcs := map[string]function.Function{}
	for k, fn := range pureFuncs() {
		funcs[k] = fn
	}
	for k, fn := range constructorFuncs() {
		funcs[k] = fn
	}
	funcs["file"] = fileFunc(func(p string) ([]byte, error) {
		p, err := d.confine(p)
		if err != nil {
			return nil, err
		}
		b, err := d.loader.opts.ReadFile(p)
		if err == nil {
			d.loader.srcs[p] = b
		}
		return b, err
	})
	d.env = &env{funcs: funcs}
	suts := map[string]cty.Value{}
	for _, s := range raw.SUTs {
		d.sutNames = append(d.sutNames, s.Name)
		suts[s.Name] = cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("sut"), "name": cty.StringVal(s.Name)})
	}
	d.env.suts = cty.EmptyObjectVal
	if len(suts) > 0 {
		d.env.suts = cty.ObjectVal(suts)
	}
	plan.Vars = d.decodeVariables(raw.Variables)
	d.sensitiveVars = map[string]bool{}
	for _, v := range plan.Vars {
		if v.Sensitive {
			d.sensitiveVars[v.Name] = true
		}
	}
	d.env.vars = varObject(plan.Vars)
	d.static = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": d.env.vars, "sut": d.env.suts},
		Functions: funcs,
	}
	plan.env = d.env
	if d.diags.HasErrors() {
		// Without every variable's value the rest would only repeat the
		// same mistake in other words.
		return plan
	}
	d.env.locals = d.decodeLocals(raw.Locals)
	d.static.Variables["local"] = d.env.locals
	if d.diags.HasErrors() {
		return plan
	}

	shapeName, shapeFrom := "", ""
	breach := BreachMeasured
	if raw.Run != nil {
		if present(raw.Run.SLABreach) {
			if b, ok := d.oneOf(raw.Run.SLABreach, "sla_breach", string(BreachMeasured), string(BreachSignificant)); ok {
				breach = Breach(b)
			}
		}
		if present(raw.Run.Seed) {
			if n, ok := d.integer(raw.Run.Seed, "seed", 0, 1<<53); ok {
				plan.Seed = uint64(n)
			}
		}
		if present(raw.Run.Shape) {
			if s, ok := d.str(raw.Run.Shape, "shape"); ok {
				shapeName, shapeFrom = s, "run.shape"
			}
		}
	}
	plan.SUT = d.decodeSUT(raw.SUTs)
	plan.Workload = d.decodeWorkload(raw.Workloads, f.Body)
	shapeBlocks := append(d.shapeFiles(raw.ShapeFiles), raw.Shapes...)
	plan.Shapes = d.decodeShapes(shapeBlocks, f.Body)
	defer func() { plan.ReadsOutside = d.readsOutside }()
	plan.Shape, plan.ShapeFrom = d.pickShape(plan.Shapes, len(shapeBlocks), raw.Run, shapeName, shapeFrom)
	d.checkOpenFirstRequests(plan)
	workloadOK := plan.Workload != nil && !d.diags.HasErrors()
	w := plan.Workload
	if !workloadOK {
		w = nil
	}
	plan.SLAs = d.decodeSLAs(raw.SLAs, w, breach, plan.Shape)
	plan.Measures = d.decodeMeasures(raw.Measures, w)
	if raw.Leak != nil {
		plan.Leak = d.decodeLeak(raw.Leak)
	}
	if raw.Regression != nil {
		plan.Regression = d.decodeRegression(raw.Regression)
	}
	plan.Topology = d.decodeTopology(raw.Topology)
	return plan
}

// confine resolves a path a plan names, relative to the plan's folder, and
// refuses one outside that folder (lexically, and through symbolic links
// when the plan is read from disk) unless Options.AllowOutside.
func (d *decoder) confine(p string) (string, error) {
	path := p
	if !filepath.IsAbs(path) {
		path = filepath.Join(d.dir, p)
	}
	path = filepath.Clean(path)
	inside := func(dir, path string) bool {
		rel, err := filepath.Rel(dir, path)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
	}
	dir, _ := filepath.Abs(d.dir)
	abs, _ := filepath.Abs(path)
	ok := inside(dir, abs)
	if ok && d.loader.onDisk {
		// A link inside the folder may point out of it.
		rdir, derr := filepath.EvalSymlinks(dir)
		rpath, perr := filepath.EvalSymlinks(abs)
		ok = derr != nil || perr != nil || inside(rdir, rpath)
	}
	if !ok && d.loader.opts.AllowOutside {
		d.readsOutside = true
		return path, nil
	}
	if !ok {
		return "", fmt.Errorf("%s is outside the plan's folder %s: a plan reads only files in its own folder or below it (--allow-outside-files lifts this)", p, d.dir)
	}
	return path, nil
}

// pickShape chooses the shape to run: --shape, then LAB_SHAPE, then the
// run block's shape, then the only shape there is.
func (d *decoder) pickShape(shapes []*Shape, blocks int, run *rawRun, name, from string) (*Shape, string) {
	if s := d.loader.opts.Env("LAB_SHAPE"); s != "" {
		name, from = s, "LAB_SHAPE"
	}
	if d.loader.opts.Shape != "" {
		name, from = d.loader.opts.Shape, "--shape"
	}
	if len(shapes) == 0 || len(shapes) != blocks {
		return nil, ""
	}
	var names []string
	for _, s := range shapes {
		names = append(names, s.Name)
		if s.Name == name {
			return s, from
		}
	}
	if name == "" {
		if len(shapes) == 1 {
			return shapes[0], "only shape"
		}
		rng := shapes[1].Range
		if run != nil {
			rng = run.DefRange
		}
		d.errorf(rng, "Which shape?", "The plan has %d shapes (%s); pick one with run { shape = \"…\" }, LAB_SHAPE or --shape.", len(shapes), quoteList(names))
		return nil, ""
	}
	detail := fmt.Sprintf("%s names shape %q, but the plan has %s.%s", from, name, quoteList(names), didYouMean(name, names))
	if from == "run.shape" {
		d.errorf(run.Shape.Range(), "Unknown shape", "%s", detail)
	} else {
		// LAB_SHAPE and --shape have no place in a file to point at.
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown shape", Detail: detail})
	}
	return nil, ""
}

// trialEval type-checks a dynamic expression by evaluating it once with the
// per-request values unknown: errors that do not depend on them show now.
func (d *decoder) trialEval(expr hcl.Expression) hcl.Diagnostics {
	if d.trial == nil {
		scope := &Scope{env: d.env, UserID: 1, Class: "trial", trial: true}
		scope.pcg.Seed(1, 1)
		scope.r = rand.New(&scope.pcg)
		d.trial = &hcl.EvalContext{
			Variables: map[string]cty.Value{
				"var": d.env.vars, "sut": d.env.suts, "local": d.env.locals, "pass": cty.DynamicVal, "setup": cty.DynamicVal,
				"repeat": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(0)}),
				"user": cty.ObjectVal(map[string]cty.Value{
					"id": cty.NumberIntVal(1), "class": cty.StringVal("trial"), "iteration": cty.NumberIntVal(0)}),
				"captured": cty.DynamicVal,
				"response": cty.DynamicVal,
			},
			Functions: funcsWithDynamic(d.env.funcs, scope),
		}
	}
	if d.each != cty.NilVal {
		d.trial.Variables["each"] = d.each
	}
	_, diags := expr.Value(d.trial)
	return diags
}

func parseDurationOK(s string) (time.Duration, bool) {
	t, err := units.ParseDuration(s)
	return t, err == nil
}
