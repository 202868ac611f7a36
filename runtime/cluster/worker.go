package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"lab/lang"
	"lab/runtime/engine"
	"lab/runtime/result"
	"lab/runtime/tally"
)

// WorkerConfig is how a worker reaches its master.
type WorkerConfig struct {
	Master  string // host:port
	Token   string
	Version string // lab's build
	Name    string
	Host    string
	// Wait is how long to keep trying to reach the master before giving
	// up: a worker may start before its master.
	Wait time.Duration
	Log  io.Writer
}

// ErrRefused means the master would not take this worker (wrong token,
// another version): trying again will not help.
var ErrRefused = errors.New("refused by the master")

// worker is one worker's state while it runs.
type worker struct {
	cfg    WorkerConfig
	client *http.Client
	id     int
	seq    int64

	mu      sync.Mutex // the buffers below, filled by the engine's collector
	seconds []Second
	windows []Window
	secMark int64
	winMark int64
	nextSec int64 // the first second not yet buffered
	names   int

	eng      *engine.Engine
	order    *Order
	shareVer int64
	heard    time.Time // the last answer from the master
}

// RunWorker joins the master, runs the share it is given and streams what
// it measures, until the master says the run is over. ctx ends it early (a
// signal): the worker stops sending and tells the master.
func RunWorker(ctx context.Context, cfg WorkerConfig) error {
	w := &worker{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second}}
	if err := w.join(ctx); err != nil {
		return err
	}
	fmt.Fprintf(cfg.Log, "worker %d: joined the master at %s\n", w.id, cfg.Master)
	order, err := w.awaitOrder(ctx)
	if err != nil {
		return err
	}
	return w.run(ctx, order)
}

// join registers with the master, trying again until Wait has passed.
func (w *worker) join(ctx context.Context) error {
	deadline := time.Now().Add(w.cfg.Wait)
	req := Join{Protocol: Protocol, Version: w.cfg.Version, Name: w.cfg.Name, Host: w.cfg.Host}
	for {
		var out Joined
		status, err := w.post(ctx, joinPath, req, &out)
		switch {
		case err == nil && status == http.StatusOK:
			w.id = out.ID
			return nil
		case err == nil:
			return fmt.Errorf("%w: %s", ErrRefused, out.Error)
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(deadline):
			return fmt.Errorf("could not reach the master at %s for %s: %v", w.cfg.Master, w.cfg.Wait, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// post sends one message and decodes the answer; a non-200 answer with a
// message is not an error of the transport.
func (w *worker) post(ctx context.Context, path string, msg, out any) (int, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+w.cfg.Master+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.cfg.Token)
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := decode(resp.Body, out); err != nil {
		return resp.StatusCode, fmt.Errorf("answer %s: %w", resp.Status, err)
	}
	return resp.StatusCode, nil
}

// sync sends a heartbeat with what was measured since the last one. The
// buffers are emptied only when the master took them.
func (w *worker) sync(ctx context.Context, final *result.Run, fail string) (*Reply, error) {
	w.mu.Lock()
	msg := Sync{ID: w.id, Seq: w.seq + 1, HaveOrder: w.order != nil, ShareVersion: w.shareVer,
		Seconds: w.seconds, Windows: w.windows, SecMark: w.secMark, WinMark: w.winMark, Final: final, Error: fail}
	nSec, nWin := len(w.seconds), len(w.windows)
	w.mu.Unlock()
	if w.eng != nil {
		msg.Users, msg.InFlight = w.eng.Live()
	}
	var reply Reply
	status, err := w.post(ctx, syncPath, msg, &reply)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: %s", ErrRefused, reply.Error)
	}
	w.heard = time.Now()
	if w.eng != nil {
		// The master calls a worker lost after Silence without a sync, and
		// gives its part to the others soon after: no sending past that.
		w.eng.Lease(w.heard.Add(Silence))
	}
	w.seq++
	w.mu.Lock()
	w.seconds = append(w.seconds[:0:0], w.seconds[nSec:]...)
	w.windows = append(w.windows[:0:0], w.windows[nWin:]...)
	w.mu.Unlock()
	return &reply, nil
}

// awaitOrder syncs until the master hands out the run.
func (w *worker) awaitOrder(ctx context.Context) (*Order, error) {
	w.heard = time.Now()
	for {
		reply, err := w.sync(ctx, nil, "")
		switch {
		case errors.Is(err, ErrRefused):
			return nil, err
		case err == nil && reply.Order != nil:
			return reply.Order, nil
		case err == nil && reply.State == Stopping:
			return nil, fmt.Errorf("the master ended the run before it started: %s", reply.Stop)
		case err != nil && time.Since(w.heard) > MasterSilence:
			return nil, fmt.Errorf("lost the master at %s: %v", w.cfg.Master, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(Heartbeat):
		}
	}
}

// compile loads the plan from the order's sources with the master's
// inputs, and checks it is the plan the master compiled.
func compile(o *Order) (*lang.Plan, error) {
	// Only the sources the master sent can be read; it applied the
	// plan-folder rule when it loaded them.
	opts := lang.Options{
		Vars: o.Vars, VarFiles: o.VarFile, Shape: o.Shape, AllowOutside: true,
		Env: func(k string) string { return o.Env[k] },
		ReadFile: func(path string) ([]byte, error) {
			if src, ok := o.Sources[path]; ok {
				return []byte(src), nil
			}
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		},
	}
	plan, diags := lang.Load(o.File, opts)
	if diags.HasErrors() {
		return nil, fmt.Errorf("the plan the master sent does not load here: %s", diags.Error())
	}
	if plan.Summary() != o.Summary {
		return nil, errors.New("the plan compiles differently here than on the master")
	}
	if err := plan.SetSetupJSON(o.Setup); err != nil {
		return nil, fmt.Errorf("what the master's setup captured does not decode here: %v", err)
	}
	return plan, nil
}

// run runs the order's share and streams it; the engine runs in its own
// goroutine while this one syncs once a second.
func (w *worker) run(ctx context.Context, o *Order) error {
	w.order = o
	plan, err := compile(o)
	share := engine.Share{Me: o.Share.Me, Owners: o.Share.Owners}
	late := o.Share.From.After(o.Start)
	if late {
		// A run under way: the share takes effect when the others give
		// up their part of it, not before.
		share = engine.Nobody(o.Share.Me)
	}
	if err == nil {
		w.nextSec, w.names = o.Start.Unix(), len(plan.Workload.Requests)
		w.eng, err = engine.New(engine.Options{
			Plan: plan, Share: share, Start: o.Start, Grace: o.Grace,
			SecondHists: true, OnSecond: w.onSecond, OnWindow: w.onWindow, OnCollect: w.onCollect,
		})
	}
	if err == nil {
		w.eng.Lease(w.heard.Add(Silence))
	}
	if err == nil && late {
		w.eng.Reshare(engine.Share{Me: o.Share.Me, Owners: o.Share.Owners}, o.Share.From)
	}
	if err != nil {
		_, _ = w.sync(ctx, nil, err.Error())
		return err
	}
	w.shareVer = o.Share.Version
	runCtx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	type outcome struct {
		run *result.Run
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		run, err := w.eng.Run(runCtx)
		done <- outcome{run, err}
	}()
	tick := time.NewTicker(Heartbeat)
	defer tick.Stop()
	for {
		select {
		case out := <-done:
			return w.finish(ctx, out.run, out.err)
		case <-ctx.Done():
			interrupt()
		case <-tick.C:
			w.heartbeat(ctx, interrupt)
		}
	}
}

// heartbeat syncs once and acts on the answer: a new share, a stop. A
// master not heard from for MasterSilence stops the run.
func (w *worker) heartbeat(ctx context.Context, interrupt func()) {
	// A master cut off by the network drops packets rather than refusing
	// them: without its own deadline one heartbeat would wait out the HTTP
	// client's 10 s, and the worker would go on sending that long.
	hctx, cancel := context.WithTimeout(ctx, MasterSilence)
	defer cancel()
	reply, err := w.sync(hctx, nil, "")
	switch {
	case errors.Is(err, ErrRefused):
		fmt.Fprintf(w.cfg.Log, "worker %d: %v; stopping\n", w.id, err)
		w.eng.Stop("the master refused this worker: " + err.Error())
		return
	case err != nil:
		if time.Since(w.heard) > MasterSilence {
			fmt.Fprintf(w.cfg.Log, "worker %d: no answer from the master for %s (%v); stopping\n", w.id, MasterSilence, err)
			w.eng.Stop("lost the master")
		}
		return
	}
	if s := reply.Share; s != nil && s.Version != w.shareVer {
		w.shareVer = s.Version
		w.eng.Reshare(engine.Share{Me: s.Me, Owners: s.Owners}, s.From)
	}
	if reply.State == Stopping {
		if reply.Interrupt {
			interrupt()
		} else {
			w.eng.Stop(reply.Stop)
		}
	}
}

// finish sends the final Run (or why there is none) until the master has
// it, or has been silent for MasterSilence.
func (w *worker) finish(ctx context.Context, run *result.Run, runErr error) error {
	fail := ""
	if runErr != nil {
		fail = runErr.Error()
	}
	deadline := time.Now().Add(MasterSilence)
	for {
		reply, err := w.sync(context.WithoutCancel(ctx), run, fail)
		if err == nil && reply.Done {
			if runErr != nil {
				return runErr
			}
			return nil
		}
		if errors.Is(err, ErrRefused) || time.Now().After(deadline) {
			return fmt.Errorf("the master did not take the final run: %v", err)
		}
		time.Sleep(Heartbeat / 2)
	}
}

func (w *worker) onSecond(s result.Second, ss tally.SecondStats) {
	w.mu.Lock()
	w.fill(s.T, s.Users)
	w.seconds = append(w.seconds, Second{Second: s, Counts: ss.Counts, Hist: ss.Hist})
	w.nextSec = s.T + 1
	w.mu.Unlock()
}

// fill buffers the seconds before t in which this worker ran users but
// completed no request (users just gained in a re-split, a slow target):
// the engine reports only seconds with requests, and the master would
// merge those seconds without this worker's users.
func (w *worker) fill(t int64, users int) {
	for ; w.nextSec < t; w.nextSec++ {
		if users > 0 {
			w.seconds = append(w.seconds, Second{Second: result.Second{T: w.nextSec, Users: users}, Counts: make([][2]int64, w.names)})
		}
	}
}

func (w *worker) onWindow(ws tally.WindowStats) {
	w.mu.Lock()
	w.windows = append(w.windows, Window{T: ws.T, Names: ws.Names, Failures: ws.Failures})
	w.mu.Unlock()
}

func (w *worker) onCollect(sec, win int64) {
	users, _ := w.eng.Live()
	w.mu.Lock()
	w.fill(sec, users)
	w.secMark, w.winMark = sec, win
	w.mu.Unlock()
}
