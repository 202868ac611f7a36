package cli

import (
	"context"
	"fmt"
	"time"

	"lab/gates/exitcode"
	"lab/runtime/engine"
)

// waitForTarget waits up to --wait-target for the plan's host to take
// connections. Swarm starts a stack's services in no order (depends_on is
// ignored), so the master may be up before the shop it loads. Without the
// flag the engine's own preflight finds a target that is down at once.
func waitForTarget(ctx context.Context, env *cmdEnv, o *applyOpts) int {
	if o.waitTarget <= 0 {
		return exitcode.OK
	}
	deadline := time.Now().Add(o.waitTarget)
	for {
		err := engine.Preflight(ctx, o.plan.Workload, time.Second)
		if err == nil {
			return exitcode.OK
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			fmt.Fprintf(env.stderr, "lab apply: %v, after waiting %s for it\nIs the service running? Nothing was sent.\n", err, o.waitTarget)
			return exitcode.CouldNotRun
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}
