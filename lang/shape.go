package lang

import (
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"

	"lab/lang/units"
)

// DefaultMaxInFlight bounds the arrivals in flight of an open shape.
const DefaultMaxInFlight = 10_000

// shapeFiles reads the shape blocks of every shapes file the plan names,
// in the order of its shapes blocks.
func (d *decoder) shapeFiles(refs []*rawShapes) []*rawShape {
	var out []*rawShape
	seen := map[string]hcl.Range{}
	for _, ref := range refs {
		src, ok := d.str(ref.Source, "source")
		if !ok {
			continue
		}
		path, err := d.confine(src)
		if err != nil {
			d.errorf(ref.Source.Range(), "Source outside the plan's folder", "%s.", err)
			continue
		}
		if prev, dup := seen[path]; dup {
			d.errorf(ref.Source.Range(), "Shapes read twice", "%s is already read by the shapes block at %s.", src, prev)
			continue
		}
		seen[path] = ref.Source.Range()
		f, diags := d.loader.parse(path, ref.Source.Range().Ptr())
		d.diags = append(d.diags, diags...)
		if f == nil || diags.HasErrors() {
			continue
		}
		var sf rawShapesFile
		sdiags := gohcl.DecodeBody(f.Body, nil, &sf)
		for _, diag := range sdiags {
			if diag.Summary == "Unsupported block type" || diag.Summary == "Unsupported argument" {
				diag.Detail += fmt.Sprintf(" A shapes file holds shape blocks only; the rest belongs in %s, which reads it.", d.path)
			}
		}
		d.diags = append(d.diags, sdiags...)
		if len(sf.Shapes) == 0 && !sdiags.HasErrors() {
			d.errorf(f.Body.MissingItemRange(), "Empty shapes file", "%s defines no shape block; the shapes block at %s reads it for its shapes.", path, ref.Source.Range())
		}
		out = append(out, sf.Shapes...)
	}
	return out
}

func (d *decoder) decodeShapes(raws []*rawShape, body hcl.Body) []*Shape {
	if len(raws) == 0 {
		if !d.diags.HasErrors() {
			d.errorf(body.MissingItemRange(), "Missing shape block",
				`A plan needs a shape: shape "steady" { stage { until = "1m"  users = 10 } }, or shapes { source = "shop.shapes.hcl" } to read them from a shapes file.`)
		}
		return nil
	}
	seen := map[string]hcl.Range{}
	var shapes []*Shape
	for _, rs := range raws {
		if prev, dup := seen[rs.Name]; dup {
			d.errorf(rs.DefRange, "Duplicate shape", "A shape named %q was already defined at %s.", rs.Name, prev)
			continue
		}
		seen[rs.Name] = rs.DefRange
		if s := d.decodeShape(rs); s != nil {
			shapes = append(shapes, s)
		}
	}
	return shapes
}

func (d *decoder) decodeShape(rs *rawShape) *Shape {
	s := &Shape{Name: rs.Name, Scale: 1, MaxInFlight: DefaultMaxInFlight, Range: rs.DefRange}
	if len(rs.Stages) == 0 {
		d.errorf(rs.DefRange, "Empty shape", "Shape %q has no stage blocks.", rs.Name)
		return nil
	}
	ok := true
	var prevEnd time.Duration
	var prevRange hcl.Range
	for i, st := range rs.Stages {
		stage, usable, sok := d.decodeStage(s, st, i == 0, prevEnd, prevRange)
		if !sok {
			ok = false
		}
		// A stage whose times or target are unusable is skipped, so that the
		// next stage's times are checked against the last usable one.
		if !usable {
			continue
		}
		s.Stages = append(s.Stages, stage)
		prevEnd, prevRange = stage.End, st.Until.Range()
	}
	if !ok || !d.decodeShapeLimits(s, rs) {
		return nil
	}
	d.checkRamps(s)
	return s
}

// decodeStage reads one stage, which starts at prevEnd, the end of the last
// usable stage (at prevRange). It sets the shape's model from the first
// stage. usable is false when the stage cannot take its place in the
// shape's timeline; ok is false when it holds any mistake.
func (d *decoder) decodeStage(s *Shape, st *rawStage, first bool, prevEnd time.Duration, prevRange hcl.Range) (stage Stage, usable, ok bool) {
	stage = Stage{Start: prevEnd, Range: st.DefRange}
	until, uok := d.duration(st.Until, "until")
	if !uok {
		return stage, false, false
	}
	if until <= prevEnd {
		if first {
			d.errorf(st.Until.Range(), "Stage ends at zero", "until is the time the stage ends, from the start of the run; it must be above 0.")
		} else {
			d.errorf(st.Until.Range(), "Stage times must increase", "This stage ends at %s, not after the previous stage, which ends at %s (%s). until is measured from the start of the run.",
				units.FormatDuration(until), units.FormatDuration(prevEnd), prevRange)
		}
		return stage, false, false
	}
	stage.End = until
	if !d.stageModel(s, st) {
		return stage, false, false
	}
	if s.Model == Closed {
		usable, ok = d.closedStage(st, &stage)
	} else {
		usable, ok = d.openStage(st, &stage)
	}
	return stage, usable, ok
}

// stageModel checks that a stage sets users (closed model) or rate (open
// model) and that it keeps the shape's model, which the first stage sets.
func (d *decoder) stageModel(s *Shape, st *rawStage) bool {
	closed, open := present(st.Users), present(st.Rate)
	switch {
	case closed && open:
		d.errorf(st.Rate.Range(), "Users and rate in one stage", "A stage sets users (closed model) or rate (open model), not both.")
		return false
	case !closed && !open:
		d.errorf(st.DefRange, "Stage without a target", `A stage sets users = 10 (closed model) or rate = "50/s" (open model).`)
		return false
	}
	model := Closed
	if open {
		model = Open
	}
	if s.Model == 0 {
		s.Model = model
	} else if s.Model != model {
		d.errorf(st.DefRange, "Mixed load models", "Shape %q mixes stages with users (closed model) and with rate (open model); use one model per shape.", s.Name)
		return false
	}
	return true
}

// closedStage reads a closed stage's users and spawn_rate.
func (d *decoder) closedStage(st *rawStage, stage *Stage) (usable, ok bool) {
	n, nok := d.integer(st.Users, "users", 0, 10_000_000)
	if !nok {
		return false, false
	}
	stage.Users = int(n)
	if present(st.SpawnRate) {
		r, rok := d.number(st.SpawnRate, "spawn_rate", 0, 1e9)
		if !rok {
			return false, false
		}
		if r == 0 {
			d.errorf(st.SpawnRate.Range(), "Invalid value for spawn_rate", "spawn_rate must be above 0; leave it out to start users at once.")
			return false, false
		}
		stage.SpawnRate = r
	}
	if present(st.Ramp) {
		d.errorf(st.Ramp.Range(), "ramp in a closed stage", "ramp is for open stages; a closed stage ramps users at spawn_rate.")
		return true, false
	}
	return true, true
}

// openStage reads an open stage's rate and ramp.
func (d *decoder) openStage(st *rawStage, stage *Stage) (usable, ok bool) {
	r, rok := d.countRate(st.Rate, "rate")
	if !rok {
		return false, false
	}
	stage.Rate = r
	if present(st.Ramp) {
		b, bok := d.boolean(st.Ramp, "ramp")
		if !bok {
			return false, false
		}
		stage.Ramp = b
	}
	if present(st.SpawnRate) {
		d.errorf(st.SpawnRate.Range(), "spawn_rate in an open stage", "An open stage sends arrivals at its rate; spawn_rate is for closed stages with users.")
		return true, false
	}
	return true, true
}

// decodeShapeLimits reads what applies to the whole shape: max_in_flight
// (open shapes only) and duration, which scales the stages to last it.
func (d *decoder) decodeShapeLimits(s *Shape, rs *rawShape) bool {
	for _, it := range []struct {
		expr hcl.Expression
		name string
		to   *int
	}{{rs.Iterations, "iterations", &s.Iterations}, {rs.SharedIterations, "shared_iterations", &s.SharedIterations}} {
		if !present(it.expr) {
			continue
		}
		if s.Model != Closed {
			d.errorf(it.expr.Range(), it.name+" in an open shape", "%s counts the passes of users: a closed shape's. An open shape's arrivals are its passes; its rate and length say how many.", it.name)
			return false
		}
		n, ok := d.integer(it.expr, it.name, 1, 1_000_000_000)
		if !ok {
			return false
		}
		*it.to = int(n)
	}
	if s.Iterations > 0 && s.SharedIterations > 0 {
		d.errorf(rs.SharedIterations.Range(), "Two kinds of iterations", "A shape sets iterations (per user) or shared_iterations (between all users), not both.")
		return false
	}
	if present(rs.MaxInFlight) {
		if s.Model != Open {
			d.errorf(rs.MaxInFlight.Range(), "max_in_flight in a closed shape", "max_in_flight bounds an open shape's arrivals; a closed shape's users bound themselves.")
			return false
		}
		n, nok := d.integer(rs.MaxInFlight, "max_in_flight", 1, 10_000_000)
		if !nok {
			return false
		}
		s.MaxInFlight = int(n)
	}
	// A null duration (a variable left unset) keeps the stages as written:
	// a shared shape takes var.duration without forcing one length on
	// every scenario.
	if present(rs.Duration) && !d.isNull(rs.Duration) {
		total, tok := d.duration(rs.Duration, "duration")
		if !tok {
			return false
		}
		if total <= 0 {
			d.errorf(rs.Duration.Range(), "Invalid duration", "duration must be above zero.")
			return false
		}
		s.scaleTo(total)
	}
	return true
}

// scaleTo stretches or shrinks the stages so the shape lasts total, keeping
// its proportions: stage ends scale, and spawn rates scale inversely so a
// ramp takes the same share of its stage.
func (s *Shape) scaleTo(total time.Duration) {
	natural := s.Duration()
	if natural == total || natural == 0 {
		return
	}
	f := float64(total) / float64(natural)
	s.Scale = f
	var prev time.Duration
	for i := range s.Stages {
		st := &s.Stages[i]
		st.Start = prev
		if i == len(s.Stages)-1 {
			st.End = total
		} else {
			st.End = time.Duration(math.Round(float64(st.End)*f/float64(time.Millisecond))) * time.Millisecond
		}
		if st.End <= st.Start {
			st.End = st.Start + time.Millisecond
		}
		if st.SpawnRate > 0 {
			st.SpawnRate /= f
		}
		prev = st.End
	}
}

// checkRamps warns when a stage ends before its ramp reaches the target.
func (d *decoder) checkRamps(s *Shape) {
	if s.Model != Closed {
		return
	}
	users := 0
	for _, st := range s.Stages {
		if st.SpawnRate > 0 {
			diff := st.Users - users
			if diff < 0 {
				diff = -diff
			}
			ramp := time.Duration(float64(diff) / st.SpawnRate * float64(time.Second))
			if length := st.End - st.Start; ramp > length {
				d.warnf(st.Range, "Ramp longer than its stage",
					"Moving from %d to %d users at %s users/s takes %s, but the stage lasts %s: it ends before reaching its target.",
					users, st.Users, trimFloat(st.SpawnRate), units.FormatDuration(ramp.Round(time.Millisecond)), units.FormatDuration(length))
			}
		}
		users = st.Users
	}
}
