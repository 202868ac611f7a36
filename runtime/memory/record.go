package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	"lab/runtime/result"
)

// DefaultInterval is the leak hunter's sampling interval (1 Hz).
const DefaultInterval = time.Second

// minSampleTimeout is the least time one reading may take: a scrape of a
// loaded target can be slow, and a reading late by a second is still good.
const minSampleTimeout = 2 * time.Second

// Recording is a Sampler being sampled on a schedule; Stop ends it and
// returns the series.
type Recording struct {
	sampler  Sampler
	start    time.Time
	every    time.Duration
	requests func() int64
	cancel   context.CancelFunc
	done     chan struct{}

	mu      sync.Mutex
	samples []result.MemorySample
	failed  int
	lastErr error

	stopOnce sync.Once
	series   *result.MemorySeries
}

// Record samples s every interval (DefaultInterval when every ≤ 0) until ctx
// ends or Stop is called: once at once, then on the schedule first+k·every,
// skipping ticks a slow reading ran over rather than bunching up. Each
// sample's AtS is seconds since start (the run's start), taken mid-reading;
// its Requests is requests() right after the reading (-1 when requests is
// nil). A failed reading is skipped and counted (see Failures). A reading
// may take the longer of 2·every and 2 s before it is abandoned.
func Record(ctx context.Context, s Sampler, start time.Time, every time.Duration, requests func() int64) *Recording {
	if every <= 0 {
		every = DefaultInterval
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Recording{sampler: s, start: start, every: every, requests: requests, cancel: cancel, done: make(chan struct{})}
	if s == nil {
		r.failed, r.lastErr = 1, errors.New("no memory sampler")
		close(r.done)
		return r
	}
	go r.run(ctx)
	return r
}

func (r *Recording) run(ctx context.Context) {
	defer close(r.done)
	timeout := max(2*r.every, minSampleTimeout)
	first := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for k := int64(0); ; {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		r.sampleOnce(ctx, timeout)
		// The next tick on the grid that is still ahead.
		elapsed := time.Since(first)
		k = max(k+1, int64(elapsed/r.every)+1)
		timer.Reset(time.Until(first.Add(time.Duration(k) * r.every)))
	}
}

func (r *Recording) sampleOnce(ctx context.Context, timeout time.Duration) {
	sctx, cancel := context.WithTimeout(ctx, timeout)
	t0 := time.Now()
	reading, err := r.sampler.Sample(sctx)
	t1 := time.Now()
	cancel()
	if ctx.Err() != nil {
		return // stopped mid-reading: neither a sample nor a failure
	}
	req := int64(-1)
	if r.requests != nil {
		req = r.requests()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failed++
		r.lastErr = err
		return
	}
	at := t0.Add(t1.Sub(t0) / 2).Sub(r.start).Seconds()
	if n := len(r.samples); n > 0 {
		prev := r.samples[n-1]
		if at <= prev.AtS {
			return // the wall clock stepped back under a start without a monotonic reading
		}
		if req >= 0 && req < prev.Requests {
			req = prev.Requests // a counter never goes back; the leak hunter relies on it
		}
	}
	r.samples = append(r.samples, result.MemorySample{AtS: at, Bytes: reading.Bytes, GCCycles: reading.GCCycles, Requests: req})
}

// Stop ends the recording, waits for a reading in flight to be abandoned, and
// returns the series: Source and Kind from the sampler, the samples in time
// order (an empty, non-nil slice when none succeeded), how many readings
// failed and the last one's error. Later calls return the same series.
func (r *Recording) Stop() *result.MemorySeries {
	r.stopOnce.Do(func() {
		r.cancel()
		<-r.done
		r.mu.Lock()
		defer r.mu.Unlock()
		r.series = &result.MemorySeries{Samples: append([]result.MemorySample{}, r.samples...), Failed: r.failed}
		if r.lastErr != nil {
			r.series.LastError = oneLine(r.lastErr.Error())
		}
		if r.sampler != nil {
			r.series.Source, r.series.Kind = r.sampler.Source(), r.sampler.Kind()
		}
	})
	return r.series
}

// Failures says how many readings failed and the last one's error (nil when
// none failed). When the series has no samples, that error is why: the
// verdict says "memory could not be read: " + err.Error().
func (r *Recording) Failures() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed, r.lastErr
}

// Samples is a copy of the samples taken so far: what a caller deciding
// whether it has read enough looks at (lab hunt's pulses).
func (r *Recording) Samples() []result.MemorySample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]result.MemorySample(nil), r.samples...)
}

// Len is how many samples have been taken so far, for live progress.
func (r *Recording) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.samples)
}
