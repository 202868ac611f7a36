package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"lab/gates/exitcode"
	"lab/lang"
	"lab/runtime/engine"
	"lab/runtime/memory"
	"lab/runtime/result"
	"lab/sut"
)

// The stage before the load: the target started (the plan's shop) or
// waited for, and the leak block's memory source opened and read once.

// target is where the load goes, as the memory sampler needs it: the
// plan's host, or the shop this command started.
type target struct {
	info memory.SUTInfo
	shop *sut.Process // nil when the shop runs elsewhere
}

// startTarget starts the plan's shop, unless the plan has none or it runs
// elsewhere (--no-sut).
func startTarget(ctx context.Context, env *cmdEnv, o *applyOpts) (target, error) {
	docker := env.getenv("DOCKER_HOST")
	t := target{info: memory.SUTInfo{BaseURL: o.plan.Workload.TargetOf(nil).Origin(), DockerHost: docker}}
	if o.plan.SUT == nil || o.noSUT {
		return t, nil
	}
	shop, err := startShop(ctx, env, o.plan)
	if err != nil {
		return t, failf(exitcode.CouldNotRun, "the shop did not start: %v", err)
	}
	fmt.Fprintf(env.stderr, "shop %q started (pid %d) at %s\n", o.plan.SUT.Name, shop.PID(), shop.BaseURL())
	t.shop = shop
	t.info = memory.SUTInfo{PID: shop.PID(), BaseURL: shop.BaseURL(), DockerHost: docker}
	return t, nil
}

func (t target) stop() {
	if t.shop != nil {
		t.shop.Stop(5 * time.Second)
	}
}

// waitForTarget waits up to --wait-target for the plan's host to take
// connections. Swarm starts a stack's services in no order (depends_on is
// ignored), so the master may be up before the shop it loads. Without the
// flag the engine's own preflight finds a target that is down at once.
func waitForTarget(ctx context.Context, o *applyOpts) error {
	if o.waitTarget <= 0 {
		return nil
	}
	deadline := time.Now().Add(o.waitTarget)
	for {
		err := engine.Preflight(ctx, o.plan.Workload, time.Second)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return failf(exitcode.CouldNotRun, "%v, after waiting %s for it\nIs the service running? Nothing was sent.", err, o.waitTarget)
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// leak is the plan's leak block, its memory = sut.NAME read from the
// shop's container through the Docker engine under --sut-container (the
// shop's process and loopback are another container's).
func (o *applyOpts) leak() *lang.Leak {
	l := o.plan.Leak
	if l == nil || o.sutContainer == "" || l.Memory.Kind != lang.MemorySUT {
		return l
	}
	c := *l
	c.Memory = lang.MemorySource{Kind: lang.MemoryContainer, Name: o.sutContainer}
	return &c
}

// openMemory opens the leak block's memory source (nil without a leak
// block): the leak hunter's samples, once a second during the run. The
// source is read once now, so one that cannot be read stops the run before
// any load rather than being found out after it.
func openMemory(ctx context.Context, leak *lang.Leak, info memory.SUTInfo) (memory.Sampler, error) {
	if leak == nil {
		return nil, nil
	}
	sampler, err := memory.NewSampler(leak.Memory, info)
	if err != nil {
		return nil, failf(exitcode.BadInput, "leak block: %v", err)
	}
	if err := probeMemory(ctx, leak, sampler); err != nil {
		return nil, err
	}
	return sampler, nil
}

// probeMemory takes one reading of the leak block's memory source before
// the run and says, when it fails, whether the plan is wrong (exit 2: it
// names a metric the endpoint does not export) or the run cannot be carried
// out (exit 3: the target is not there or cannot be read).
func probeMemory(ctx context.Context, l *lang.Leak, s memory.Sampler) error {
	_, err := memory.Probe(ctx, s)
	if err == nil {
		return nil
	}
	at := fmt.Sprintf("%s:%d", l.Range.Filename, l.Range.Start.Line)
	var pe *memory.PlanError
	if errors.As(err, &pe) {
		return failf(exitcode.BadInput, "the plan is invalid (exit 2): %s: leak block, memory %s: %v\nNothing was sent.",
			at, lang.MemoryText(l.Memory), err)
	}
	return failf(exitcode.CouldNotRun, "the run cannot be carried out (exit 3): %s: leak block, memory %s cannot be read: %v\nNothing was sent.",
		at, lang.MemoryText(l.Memory), err)
}

// startShop runs the bundled shop as a child process with the plan's
// knobs, each LAB_SUT_<KNOB> variable set winning over the plan's value (as
// in the generated Compose file): make compare's "the same plan with the
// shop 50% slower" needs no edited plan.
func startShop(ctx context.Context, env *cmdEnv, plan *lang.Plan) (*sut.Process, error) {
	knobs, err := planKnobs(plan.SUT)
	if err != nil {
		return nil, err
	}
	knobs, overrides, err := envKnobs(knobs, env.getenv)
	if err != nil {
		return nil, err
	}
	for _, o := range overrides {
		fmt.Fprintf(env.stderr, "shop knob %s (the plan's value is the default)\n", o)
	}
	bin, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return sut.Start(ctx, bin, os.Environ(), knobs, nil)
}

// planKnobs are the shop's knobs as the plan's sut block sets them; a
// problem names the knob and its file:line in the plan.
func planKnobs(s *lang.SUT) (sut.Knobs, error) {
	var settings []knobSetting
	for _, k := range s.Knobs {
		where := fmt.Sprintf("%s:%d: %s", k.Range.Filename, k.Range.Start.Line, k.Name)
		settings = append(settings, knobSetting{k.Name, k.Text, where})
	}
	knobs, problems := setKnobs(sut.DefaultKnobs(), settings)
	if len(problems) > 0 {
		return knobs, fmt.Errorf("the plan's knobs were refused: %s", strings.Join(problems, "; "))
	}
	return knobs, nil
}

// envKnobs sets the knobs LAB_SUT_<KNOB> variables give (not listen, which
// the plan's host decides), and says which ("LAB_SUT_LATENCY=3ms").
func envKnobs(k sut.Knobs, getenv func(string) string) (sut.Knobs, []string, error) {
	var settings []knobSetting
	var said []string
	for _, s := range sut.KnobSpecs() {
		v := getenv(s.Env)
		if v == "" || s.Name == "listen" {
			continue
		}
		settings = append(settings, knobSetting{s.Name, v, s.Env})
		if s.Name != "admin_token" {
			said = append(said, s.Env+"="+v)
		}
	}
	k, problems := setKnobs(k, settings)
	if len(problems) > 0 {
		return k, nil, fmt.Errorf("the shop's knobs were refused: %s", strings.Join(problems, "; "))
	}
	return k, said, nil
}

// runSetup sends the workload's setup steps once, before the load, and
// gives what they capture to every user (setup.NAME). A setup that fails
// leaves nothing to measure: exit 3, with the step and why.
func runSetup(ctx context.Context, env *cmdEnv, o *applyOpts) error {
	w := o.plan.Workload
	if len(w.Setup) == 0 {
		return nil
	}
	s := o.plan.NewSetupScope()
	if err := engine.RunSteps(ctx, o.plan, w.Setup, s); err != nil {
		return failf(exitcode.CouldNotRun, "setup failed at %v; nothing was run", err)
	}
	o.plan.SetSetup(s.CapturedValues())
	fmt.Fprintf(env.stderr, "setup: %d requests sent, %d values captured\n", len(w.Setup), len(s.CapturedValues()))
	return nil
}

// runTeardown sends the teardown steps once the load is over, whatever
// its outcome; a failure is said, and kept in the Run, but judges nothing.
func runTeardown(ctx context.Context, env *cmdEnv, o *applyOpts, run *result.Run) {
	w := o.plan.Workload
	if len(w.Teardown) == 0 {
		return
	}
	s := o.plan.NewSetupScope()
	if err := engine.RunSteps(context.WithoutCancel(ctx), o.plan, w.Teardown, s); err != nil {
		env.notef("warning: teardown failed at %v", err)
		if run.Extra == nil {
			run.Extra = map[string]any{}
		}
		run.Extra["teardown_failed"] = err.Error()
	}
}
