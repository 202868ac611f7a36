package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"lab/gates/exitcode"
	"lab/runtime/cluster"
)

const workerAbout = `Run as a worker of a distributed run: join the master (lab apply with
topology { workers = N } or --workers N), receive the plan from it, run the
part of the load it gives, and stream what is measured back, once a second.
The worker needs no plan file. It keeps trying to reach the master for
--wait, so it may start first. The token (LAB_TOKEN, or --token-file) must
match the master's; both must run the same build of lab.

A worker that hears nothing from its master for 5 s stops sending. SIGINT
or SIGTERM stops this worker's part and tells the master.

Exit codes: 0 the run ended and the master has this worker's results · 2
invalid command line · 3 the master refused this worker, could not be
reached, or the run could not be carried out here.`

func runWorker(env *cmdEnv, args []string) error {
	fs := newFlags("worker")
	var cfg cluster.WorkerConfig
	var tokenFile string
	fs.StringVar(&cfg.Master, "master", "", "the master's host:port (required)")
	fs.StringVar(&tokenFile, "token-file", "", "read the token from this file (else LAB_TOKEN)")
	fs.StringVar(&cfg.Name, "name", "", "this worker's name in the Run (default: host name and process id)")
	fs.DurationVar(&cfg.Wait, "wait", time.Minute, "how long to keep trying to reach the master")
	if err := parseFlags(env, fs, args, "lab worker --master HOST:PORT [flags]", workerAbout); err != nil {
		return err
	}
	if cfg.Master == "" || fs.NArg() > 0 {
		return failf(exitcode.BadInput, "--master HOST:PORT is required, and nothing else")
	}
	var err error
	if cfg.Token, err = readToken(env, tokenFile); err != nil {
		return failf(exitcode.BadInput, "%v", err)
	}
	cfg.Host, _ = os.Hostname()
	if cfg.Name == "" {
		cfg.Name = fmt.Sprintf("%s-%d", cfg.Host, os.Getpid())
	}
	cfg.Version, cfg.Log = version, env.stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cluster.RunWorker(ctx, cfg); err != nil {
		return failf(exitcode.CouldNotRun, "%v", err)
	}
	return nil
}

// readToken is the shared token: from file when given, else LAB_TOKEN.
func readToken(env *cmdEnv, file string) (string, error) {
	if file == "" {
		return env.getenv("LAB_TOKEN"), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("token file: %v", err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", file)
	}
	return tok, nil
}
