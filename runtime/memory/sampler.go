package memory

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"lab/lang"
)

// Kinds of series, as result.MemorySeries.Kind spells them. The leak hunter
// reads them with leak.ParseSource: heap_live has no GC sawtooth (its blocks
// take the median); the others are resident figures with the sawtooth on top
// (their blocks take the minimum).
const (
	KindHeapLive = "heap_live" // Go runtime /gc/heap/live:bytes
	KindRSSAnon  = "rss_anon"  // /proc/PID/status RssAnon
	KindRSS      = "rss"       // VmRSS, or process_resident_memory_bytes
	KindCgroup   = "cgroup"    // cgroup memory.stat anon (v1: total_rss)
	KindDocker   = "docker"    // Docker stats API
	KindMetric   = "metric"    // any other metric of a Prometheus endpoint
)

// Reading is one sample of a source.
type Reading struct {
	Bytes    float64
	GCCycles int64 // cumulative GC cycles of the target; -1 when unknown
}

// Sampler reads the memory of one source. Sample is called from one
// goroutine at a time.
type Sampler interface {
	Sample(ctx context.Context) (Reading, error)
	// Source says what is sampled, for people: "go_gc_heap_live_bytes of
	// shop "shop" at http://…/metrics".
	Source() string
	// Kind is one of the Kind constants. A sut source settles it at its
	// first successful Sample (heap live, or RssAnon as the fallback), so
	// read it after sampling.
	Kind() string
}

// SUTInfo is what the caller knows of the bundled shop when the source is
// `sut`: its process (0 when it is not a child of this process, e.g. in a
// container) and its base URL ("http://127.0.0.1:8080"; "" when unknown).
type SUTInfo struct {
	PID     int
	BaseURL string
	// DockerHost is DOCKER_HOST as the command line has it ("" for the
	// engine's default socket), for a container's memory.
	DockerHost string
}

// NewSampler returns the sampler for src. It checks src but reads nothing:
// the target may not be up yet. Bad input is an error naming what is wrong.
func NewSampler(src lang.MemorySource, sut SUTInfo) (Sampler, error) {
	switch src.Kind {
	case lang.MemorySUT:
		return newSUTSampler(src.Name, sut)
	case lang.MemoryPID:
		if src.PID <= 0 {
			return nil, fmt.Errorf("memory source pid: want a process id > 0, got %d", src.PID)
		}
		return newPIDSampler(src.PID), nil
	case lang.MemoryCgroup:
		return newCgroupSampler(src.Path)
	case lang.MemoryContainer:
		return newContainerSampler(src.Name, dockerSocket(sut.DockerHost))
	case lang.MemoryMetrics:
		return newMetricsSampler(src.URL, src.Metric)
	case "":
		return nil, errors.New("memory source: no kind set (want sut, pid, cgroup, container or metrics)")
	}
	return nil, fmt.Errorf("memory source: unknown kind %q (want sut, pid, cgroup, container or metrics)", src.Kind)
}

// checkHTTPURL accepts absolute http(s) URLs with a host.
func checkHTTPURL(what, raw string) (*url.URL, error) {
	lower := strings.ToLower(raw)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return nil, fmt.Errorf("%s: %q must start with http:// or https://", what, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a URL: %v", what, raw, err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s: %q has no host", what, raw)
	}
	return u, nil
}

// sutSampler reads the shop's live heap from /metrics. Subtleness ahead: the
// fallback is chosen once, at the first successful sample, and kept for the
// run — a series that mixed the live heap (tens of MB, no sawtooth) with
// resident memory would show a jump the leak hunter could call a leak.
type sutSampler struct {
	name    string
	metrics *promReader // nil without a base URL
	pid     int

	mu    sync.Mutex
	mode  sutMode
	field string // /proc/PID/status field in sutProc mode
	why   string // why the live heap is not used
}

type sutMode int

const (
	sutUndecided sutMode = iota
	sutHeapLive
	sutProc     // /proc/PID/status RssAnon (VmRSS on old kernels)
	sutResident // process_resident_memory_bytes on /metrics
)

func newSUTSampler(name string, sut SUTInfo) (*sutSampler, error) {
	if sut.PID < 0 {
		return nil, fmt.Errorf("memory source sut %q: pid must not be negative, got %d", name, sut.PID)
	}
	s := &sutSampler{name: name, pid: sut.PID}
	if sut.BaseURL != "" {
		base, err := checkHTTPURL(fmt.Sprintf("memory source sut %q: base URL", name), sut.BaseURL)
		if err != nil {
			return nil, err
		}
		s.metrics = newPromReader(base.JoinPath("metrics").String())
	}
	if s.metrics == nil && s.pid == 0 {
		return nil, fmt.Errorf("memory source sut %q: neither its base URL nor its process id is known", name)
	}
	return s, nil
}

func (s *sutSampler) Sample(ctx context.Context) (Reading, error) {
	s.mu.Lock()
	mode := s.mode
	s.mu.Unlock()
	switch mode {
	case sutHeapLive:
		return s.heapLive(ctx)
	case sutProc:
		return s.proc()
	case sutResident:
		return s.resident(ctx)
	}
	// First success decides, in order of preference.
	var errs []error
	if s.metrics != nil {
		r, err := s.heapLive(ctx)
		if err == nil {
			s.settle(sutHeapLive, "")
			return r, nil
		}
		if ctx.Err() != nil {
			// Out of time (a loaded shop, or the run ending) says nothing
			// about /metrics: decide at a later sample.
			return Reading{}, err
		}
		errs = append(errs, err)
	}
	if s.pid > 0 {
		r, err := s.proc()
		if err == nil {
			s.settle(sutProc, joinText(errs))
			return r, nil
		}
		errs = append(errs, err)
	}
	if s.metrics != nil {
		r, err := s.resident(ctx)
		if err == nil {
			s.settle(sutResident, joinText(errs))
			return r, nil
		}
		errs = append(errs, err)
	}
	return Reading{}, errors.Join(errs...)
}

func (s *sutSampler) settle(m sutMode, why string) {
	s.mu.Lock()
	s.mode, s.why = m, why
	s.mu.Unlock()
}

func (s *sutSampler) heapLive(ctx context.Context) (Reading, error) {
	fams, err := s.metrics.read(ctx)
	if err != nil {
		return Reading{}, err
	}
	v, err := metricValue(fams, MetricHeapLive)
	if err != nil {
		return Reading{}, fmt.Errorf("%s: %w", s.metrics.url, err)
	}
	return Reading{Bytes: v, GCCycles: gcCycles(fams)}, nil
}

func (s *sutSampler) proc() (Reading, error) {
	v, field, err := procStatus(s.pid)
	if err != nil {
		return Reading{}, err
	}
	s.mu.Lock()
	s.field = field
	s.mu.Unlock()
	return Reading{Bytes: v, GCCycles: -1}, nil
}

func (s *sutSampler) resident(ctx context.Context) (Reading, error) {
	fams, err := s.metrics.read(ctx)
	if err != nil {
		return Reading{}, err
	}
	v, err := metricValue(fams, MetricResident)
	if err != nil {
		return Reading{}, fmt.Errorf("%s: %w", s.metrics.url, err)
	}
	return Reading{Bytes: v, GCCycles: gcCycles(fams)}, nil
}

func (s *sutSampler) Source() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var src string
	switch s.mode {
	case sutProc:
		src = fmt.Sprintf("%s of shop %q (pid %d)", s.field, s.name, s.pid)
	case sutResident:
		src = fmt.Sprintf("%s of shop %q at %s", MetricResident, s.name, s.metrics.url)
	default:
		if s.metrics == nil {
			return fmt.Sprintf("shop %q (pid %d)", s.name, s.pid)
		}
		return fmt.Sprintf("%s of shop %q at %s", MetricHeapLive, s.name, s.metrics.url)
	}
	if s.why != "" {
		src += " (live heap unreadable: " + oneLine(s.why) + ")"
	}
	return src
}

func (s *sutSampler) Kind() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.mode {
	case sutProc:
		return kindOfField(s.field)
	case sutResident:
		return KindRSS
	}
	return KindHeapLive
}

// joinText is the errors' text on one line, "" for none.
func joinText(errs []error) string {
	if err := errors.Join(errs...); err != nil {
		return oneLine(err.Error())
	}
	return ""
}

// oneLine joins a multi-line error text (errors.Join) with "; ".
func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
}
