package memory

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ProbeTimeout bounds the one reading Probe takes: a Docker engine's first
// stats answer or a cold /metrics page can take seconds.
const ProbeTimeout = 10 * time.Second

// PlanError is a reading that failed because of what the plan asks for — a
// metric the endpoint does not export, or not as a number — rather than
// because the target could not be read: the plan is what must change.
type PlanError struct{ Err error }

func (e *PlanError) Error() string { return e.Err.Error() }
func (e *PlanError) Unwrap() error { return e.Err }

// Probe takes one real reading of s, before any load is sent, so that a
// source that cannot be read stops the run at once instead of being found
// out after it. A live-heap reading must come with the target's GC cycle
// count: without it the leak hunter cannot tell a fresh reading from a
// stale one. Errors name what is wrong; errors.As(err, **PlanError) says
// the plan is at fault.
func Probe(ctx context.Context, s Sampler) (Reading, error) {
	if s == nil {
		return Reading{}, errors.New("no memory sampler")
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	r, err := s.Sample(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return Reading{}, fmt.Errorf("%s: no answer within %v: %w", s.Source(), ProbeTimeout, err)
		}
		return Reading{}, err
	}
	if s.Kind() == KindHeapLive && r.GCCycles < 0 {
		return Reading{}, fmt.Errorf("%s: the live heap comes without a GC cycle count (%s or %s_count on the same page): a live-heap reading that did not change cannot be told from one no collection refreshed",
			s.Source(), MetricGCCycles, MetricGCDuration)
	}
	return r, nil
}
