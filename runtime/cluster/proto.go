// Package cluster runs one plan on many workers: a master that hands the
// plan to workers, splits the load among them, merges what they measure
// into one Run, and notices when one is lost; and the worker that runs its
// share. They talk HTTP/1.1 with JSON bodies (net/http: keepalives,
// deadlines and TLS come with the standard library, and every proxy and
// tool understands it); a worker polls the master once a second, which is
// also its heartbeat. docs/DESIGN.md, "Distributed runs", has the protocol.
package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"lab/runtime/result"
)

// Protocol is the version of the messages below. A master and a worker
// must speak the same one, and run the same build of lab.
const Protocol = 1

// Paths of the master's endpoints.
const (
	joinPath = "/v1/join"
	syncPath = "/v1/sync"
)

// maxBody bounds a message: a worker's final Run of a long run with many
// request names is a few megabytes.
const maxBody = 256 << 20

// Heartbeat is how often a worker syncs; Silence how long the master waits
// before it calls a worker lost; MasterSilence how long a worker goes on
// without hearing from its master before it stops sending.
const (
	Heartbeat     = time.Second
	Silence       = 3 * time.Second
	MasterSilence = 5 * time.Second
)

// Join is a worker asking to take part.
type Join struct {
	Protocol int    `json:"protocol"`
	Version  string `json:"version"` // lab's build
	Name     string `json:"name"`
	Host     string `json:"host"`
}

// Joined is the master's answer: the worker's id, or why it was refused.
type Joined struct {
	ID    int    `json:"id"`
	Error string `json:"error,omitempty"`
}

// Sync is a worker's heartbeat, with what it measured since the last one.
type Sync struct {
	ID  int   `json:"id"`
	Seq int64 `json:"seq"`
	// HaveOrder says the worker has the run order (the master then leaves
	// it out); ShareVersion is the share it runs.
	HaveOrder    bool  `json:"have_order"`
	ShareVersion int64 `json:"share_version"`
	// Seconds and Windows finished since the last sync.
	Seconds []Second `json:"seconds,omitempty"`
	Windows []Window `json:"windows,omitempty"`
	// SecMark and WinMark: every second before SecMark and window before
	// WinMark (unix seconds) has been sent; the master merges a second or
	// window once every live worker is past it.
	SecMark int64 `json:"sec_mark"`
	WinMark int64 `json:"win_mark"`
	// Live figures for the master's progress line.
	Users    int `json:"users"`
	InFlight int `json:"in_flight"`
	// Final is the worker's whole Run, once it has ended; Error, why the
	// worker could not run (Final is then nil).
	Final *result.Run `json:"final,omitempty"`
	Error string      `json:"error,omitempty"`
}

// Second is one finished second of one worker.
type Second struct {
	result.Second
	Counts [][2]int64 `json:"counts"` // per request name (plan order): completed, failed
	Hist   string     `json:"hist,omitempty"`
}

// Window is one finished window of one worker: per request name (plan
// order, nil where none) its figures and histograms, and its failures.
type Window struct {
	T        int64            `json:"t"`
	Names    []*result.Window `json:"names"`
	Failures []result.Failure `json:"failures,omitempty"`
}

// Reply is the master's answer to a sync.
type Reply struct {
	State string `json:"state"` // Waiting, Running or Stopping
	// Order is the run, until the worker says it has it.
	Order *Order `json:"order,omitempty"`
	// Share is the worker's share, when it differs from the one it runs.
	Share *ShareOrder `json:"share,omitempty"`
	// Stop says why the run ends early; Interrupt, that it was a signal
	// (the worker's Run is then interrupted, not aborted).
	Stop      string `json:"stop,omitempty"`
	Interrupt bool   `json:"interrupt,omitempty"`
	// Done tells the worker its final Run arrived: it may exit.
	Done  bool   `json:"done,omitempty"`
	Error string `json:"error,omitempty"`
}

// The states of a run, as the master tells them.
const (
	Waiting  = "waiting"  // for workers to join
	Running  = "running"  // the order holds
	Stopping = "stopping" // stop sending, finish, send the final Run
)

// Order is what a worker needs to run its share: the plan's text and the
// inputs it was loaded with, so the worker compiles the same plan, and
// when to start.
type Order struct {
	File    string            `json:"file"`
	Sources map[string]string `json:"sources"` // every file the plan read, var files included
	Vars    []string          `json:"vars,omitempty"`
	VarFile []string          `json:"var_files,omitempty"`
	Env     map[string]string `json:"env,omitempty"` // LAB_VAR_*, LAB_SHAPE
	Shape   string            `json:"shape,omitempty"`
	// Summary is the plan as the master compiled it: a worker whose own
	// compilation differs refuses to run.
	Summary string `json:"summary"`
	// Setup is what the workload's setup captured, on the master
	// (lang.Plan.SetupJSON): workers do not run it again.
	Setup json.RawMessage `json:"setup,omitempty"`
	Start time.Time       `json:"start"`
	Grace time.Duration   `json:"grace"`
	Share ShareOrder      `json:"share"`
}

// ShareOrder is a worker's share of the load (engine.Share), in force for
// arrivals due from From on.
type ShareOrder struct {
	Version int64     `json:"version"`
	Me      int       `json:"me"`
	Owners  []int     `json:"owners"`
	From    time.Time `json:"from"`
}

// decode reads one JSON message of at most maxBody bytes into v, refusing
// unknown fields and trailing data: a message from another build says so
// instead of being half understood.
func decode(r io.Reader, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return err
	}
	return decodeBytes(data, v)
}

func decodeBytes(data []byte, v any) error {
	if len(data) > maxBody {
		return fmt.Errorf("message over %d bytes", maxBody)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed message: %w", err)
	}
	if dec.More() {
		return errors.New("malformed message: data after the message")
	}
	return nil
}

// DecodeSync reads a worker's sync and checks what the master relies on:
// windows and seconds in order, names indexed within bounds.
func DecodeSync(data []byte, names int) (*Sync, error) {
	var s Sync
	if err := decodeBytes(data, &s); err != nil {
		return nil, err
	}
	for i, sec := range s.Seconds {
		if len(sec.Counts) != names {
			return nil, fmt.Errorf("second %d: %d request counts, want %d", sec.T, len(sec.Counts), names)
		}
		if i > 0 && sec.T <= s.Seconds[i-1].T {
			return nil, fmt.Errorf("seconds out of order at %d", sec.T)
		}
	}
	for i, w := range s.Windows {
		if len(w.Names) != names {
			return nil, fmt.Errorf("window %d: %d request names, want %d", w.T, len(w.Names), names)
		}
		if i > 0 && w.T <= s.Windows[i-1].T {
			return nil, fmt.Errorf("windows out of order at %d", w.T)
		}
	}
	if s.Final != nil {
		if err := s.Final.Validate(); err != nil {
			return nil, fmt.Errorf("final run: %w", err)
		}
	}
	return &s, nil
}
