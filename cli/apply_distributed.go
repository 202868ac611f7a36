package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"lab/gates/exitcode"
	"lab/lang"
	"lab/runtime/cluster"
	"lab/runtime/memory"
	"lab/runtime/result"
)

// clusterOpts are lab apply's flags for a distributed run.
type clusterOpts struct {
	workers     int
	listen      string
	remote      bool
	joinTimeout time.Duration
	tokenFile   string
	token       string
	onLoss      string
}

func (c *clusterOpts) register(fs *pflag.FlagSet) {
	fs.IntVar(&c.workers, "workers", 0, "run on this many workers (wins over topology.workers)")
	fs.StringVar(&c.listen, "listen", "", "where the master listens for workers (wins over topology.master)")
	fs.BoolVar(&c.remote, "remote-workers", false, "start no worker here: wait for the workers to join (lab worker --master …)")
	fs.DurationVar(&c.joinTimeout, "join-timeout", 2*time.Minute, "how long to wait for the workers to join")
	fs.StringVar(&c.tokenFile, "token-file", "", "read the workers' token from this file (else LAB_TOKEN)")
}

// settle fills in what the flags left to the plan, and checks it.
func (c *clusterOpts) settle(env *cmdEnv, plan *lang.Plan, fs *pflag.FlagSet) error {
	t := plan.Topology
	if !fs.Changed("workers") {
		c.workers = t.Workers
	}
	if c.workers < 1 || c.workers > lang.MaxWorkers {
		return fmt.Errorf("--workers %d: want 1 to %d", c.workers, lang.MaxWorkers)
	}
	c.onLoss = t.OnWorkerLoss
	var err error
	if c.token, err = readToken(env, c.tokenFile); err != nil {
		return err
	}
	switch {
	case c.listen != "":
	case c.remote:
		c.listen = t.Master
	default:
		// Workers this process starts find it on any free loopback port.
		c.listen = "127.0.0.1:0"
	}
	return cluster.CheckListen(c.listen, c.token)
}

// distributed says the load runs on workers rather than in this process.
func (c *clusterOpts) distributed() bool { return c.workers > 1 || c.remote }

// runDistributed is the master's part of lab apply: it serves the plan to
// the workers (starting them as child processes unless they run
// elsewhere), merges what they measure, and records the target's memory.
func runDistributed(ctx context.Context, env *cmdEnv, o *applyOpts, sampler memory.Sampler) (*result.Run, error) {
	plan := o.plan
	w := newWatchers(env, o, sampler)
	m, err := cluster.NewMaster(cluster.MasterConfig{
		Listen: o.cluster.listen, Token: o.cluster.token, Version: version, Workers: o.cluster.workers,
		JoinTimeout: o.cluster.joinTimeout, OnLoss: o.cluster.onLoss, Plan: plan, Order: order(env, o), Log: w.logs,
		OnTick: w.onTick(), OnWindow: w.onWindow(),
	})
	if err != nil {
		return nil, failf(exitcode.CouldNotRun, "%v", err)
	}
	defer m.Close()
	w.stop = m.Stop
	fmt.Fprintf(env.stderr, "applying %s: shape %q (%s model, %s) against %s on %d workers; master at %s\n",
		plan.File, plan.Shape.Name, plan.Shape.Model, plan.Shape.Duration(), plan.Workload.Host, o.cluster.workers, m.Addr())
	if !o.cluster.remote {
		stop, err := startWorkers(env, o, m, w.logs)
		if err != nil {
			return nil, failf(exitcode.CouldNotRun, "starting workers: %v", err)
		}
		defer stop()
	}
	o.page.workers(m.Workers)
	// Called from m.Run, before it returns.
	m.OnStart(func(t time.Time) { w.started(ctx, t, m.Completed) })
	run, err := m.Run(ctx)
	w.done(run)
	if err != nil {
		return nil, failf(exitcode.CouldNotRun, "%v", err)
	}
	return run, nil
}

// order is the plan as the workers get it: its sources and the inputs it
// was loaded with here.
func order(env *cmdEnv, o *applyOpts) cluster.Order {
	ord := cluster.Order{
		File: o.plan.File, Sources: map[string]string{}, Vars: o.inputs.vars, VarFile: o.inputs.varFiles,
		Env: map[string]string{}, Shape: o.inputs.shape, Summary: o.plan.Summary(), Grace: o.grace,
	}
	for path, src := range o.plan.Sources {
		ord.Sources[path] = string(src)
	}
	// What the setup captured: it ran here, once; every worker's users read it.
	ord.Setup, _ = o.plan.SetupJSON()
	names := []string{"LAB_SHAPE"}
	for _, v := range o.plan.Vars {
		names = append(names, "LAB_VAR_"+v.Name)
	}
	for _, k := range names {
		if v := env.getenv(k); v != "" {
			ord.Env[k] = v
		}
	}
	return ord
}

// startWorkers starts the workers as child processes of this one, and
// returns what stops any still running. One that exits before the run
// starts (refused, say) ends the wait for them at once.
func startWorkers(env *cmdEnv, o *applyOpts, m *cluster.Master, logs io.Writer) (func(), error) {
	addr := m.Addr()
	bin, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var procs []*exec.Cmd
	var exited []chan struct{}
	stop := func() {
		for i, p := range procs {
			select {
			case <-exited[i]:
			case <-time.After(15 * time.Second):
				_ = p.Process.Kill()
				<-exited[i]
			}
		}
	}
	for i := range o.cluster.workers {
		cmd := exec.Command(bin, "worker", "--master", addr, "--name", fmt.Sprintf("local-%d", i+1), "--wait", "30s")
		cmd.Env = append(os.Environ(), "LAB_TOKEN="+o.cluster.token)
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			stop()
			return nil, err
		}
		done := make(chan struct{})
		go func() {
			if err := cmd.Wait(); err != nil {
				m.Abandon(fmt.Sprintf("worker process %d ended before the run started (%v)", cmd.Process.Pid, err))
			}
			close(done)
		}()
		procs = append(procs, cmd)
		exited = append(exited, done)
	}
	pids := make([]string, len(procs))
	for i, p := range procs {
		pids[i] = fmt.Sprint(p.Process.Pid)
	}
	sort.Strings(pids)
	fmt.Fprintf(env.stderr, "started %d workers here (pids %s)\n", len(procs), strings.Join(pids, " "))
	return stop, nil
}
