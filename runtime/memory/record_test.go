package memory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lab/runtime/memory"
	"lab/runtime/result"
)

// fakeSampler answers from read; it counts the calls that returned.
type fakeSampler struct {
	read  func(ctx context.Context, call int64) (memory.Reading, error)
	calls atomic.Int64
}

func (f *fakeSampler) Sample(ctx context.Context) (memory.Reading, error) {
	r, err := f.read(ctx, f.calls.Load()+1)
	f.calls.Add(1)
	return r, err
}
func (f *fakeSampler) Source() string { return "the fake" }
func (f *fakeSampler) Kind() string   { return memory.KindRSS }

var _ memory.Sampler = (*fakeSampler)(nil)

// waitCalls waits (bounded) until f has answered n times.
func waitCalls(t *testing.T, f *fakeSampler, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for f.calls.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d readings after 20 s, want %d", f.calls.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

var errOdd = errors.New("odd reading")

// Failed readings are skipped and counted; the last error is kept; the rest
// are samples in time order carrying the reading and the request count.
func TestRecordSkipsAndCountsFailures(t *testing.T) {
	f := &fakeSampler{read: func(_ context.Context, call int64) (memory.Reading, error) {
		if call%2 == 1 {
			return memory.Reading{}, fmt.Errorf("reading %d: %w", call, errOdd)
		}
		return memory.Reading{Bytes: float64(call) * 1000, GCCycles: call}, nil
	}}
	// The request counter goes back once: the series must not.
	var reqCalls atomic.Int64
	requests := func() int64 {
		n := reqCalls.Add(1)
		if n == 4 { // reading 4 succeeds
			return 0
		}
		return n * 10
	}
	start := time.Now().Add(-time.Minute)
	rec := memory.Record(context.Background(), f, start, 2*time.Millisecond, requests)
	waitCalls(t, f, 20)
	series := rec.Stop()
	calls := f.calls.Load()
	failed, err := rec.Failures()

	// Stop may land between a reading and its recording: that one is neither.
	if got := int64(len(series.Samples) + failed); got != calls && got != calls-1 {
		t.Errorf("%d samples + %d failures, want the %d readings", len(series.Samples), failed, calls)
	}
	if !errors.Is(err, errOdd) || failed < 9 {
		t.Errorf("%d failures, last %v; want ≥ 9 and the odd readings' error", failed, err)
	}
	// The series carries them, so the verdict can say how many failed.
	if series.Failed != failed || series.LastError != err.Error() {
		t.Errorf("series says %d failed (%q), the recording %d (%v)", series.Failed, series.LastError, failed, err)
	}
	if series.Source != "the fake" || series.Kind != memory.KindRSS {
		t.Errorf("source %q kind %q", series.Source, series.Kind)
	}
	for i, s := range series.Samples {
		if int64(s.Bytes) != s.GCCycles*1000 || s.GCCycles%2 != 0 {
			t.Errorf("sample %d = %+v, not an even reading", i, s)
		}
		if s.AtS < 60 || s.AtS > 120 {
			t.Errorf("sample %d at %.3f s, want seconds since a start a minute ago", i, s.AtS)
		}
		if i > 0 {
			p := series.Samples[i-1]
			if s.AtS <= p.AtS || s.Requests < p.Requests {
				t.Errorf("sample %d %+v does not follow %+v", i, s, p)
			}
		}
	}
	if again := rec.Stop(); again != series {
		t.Error("a second Stop returned another series")
	}
}

// When every reading fails, the series is empty (not nil) and the last error
// says why.
func TestRecordEveryReadingFails(t *testing.T) {
	f := &fakeSampler{read: func(context.Context, int64) (memory.Reading, error) {
		return memory.Reading{}, errors.New("permission denied")
	}}
	rec := memory.Record(context.Background(), f, time.Now(), time.Millisecond, nil)
	waitCalls(t, f, 3)
	series := rec.Stop()
	failed, err := rec.Failures()
	if series.Samples == nil || len(series.Samples) != 0 || failed < 3 || err == nil || err.Error() != "permission denied" {
		t.Errorf("samples %v, %d failures, last %v; want none, ≥ 3, permission denied", series.Samples, failed, err)
	}
	if series.Failed != failed || series.LastError != "permission denied" {
		t.Errorf("series: %d failed, last %q", series.Failed, series.LastError)
	}
}

// Stop abandons a reading in flight; a cancelled context ends the recording
// and Stop still returns what was read.
func TestRecordStopsPromptly(t *testing.T) {
	t.Run("reading in flight", func(t *testing.T) {
		f := &fakeSampler{read: func(ctx context.Context, call int64) (memory.Reading, error) {
			if call == 1 {
				return memory.Reading{Bytes: 1, GCCycles: -1}, nil
			}
			<-ctx.Done() // a target that never answers
			return memory.Reading{}, ctx.Err()
		}}
		rec := memory.Record(context.Background(), f, time.Now(), time.Millisecond, nil)
		waitCalls(t, f, 1)
		series := stopWithin(t, rec)
		if len(series.Samples) != 1 || series.Samples[0].Requests != -1 {
			t.Errorf("samples %+v, want the first reading with unknown requests", series.Samples)
		}
		if failed, err := rec.Failures(); failed != 0 {
			t.Errorf("the abandoned reading counted as a failure: %d, %v", failed, err)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		f := &fakeSampler{read: func(context.Context, int64) (memory.Reading, error) {
			return memory.Reading{Bytes: 5, GCCycles: -1}, nil
		}}
		ctx, cancel := context.WithCancel(context.Background())
		rec := memory.Record(ctx, f, time.Now(), time.Millisecond, nil)
		waitCalls(t, f, 3)
		cancel()
		n := len(stopWithin(t, rec).Samples)
		if n < 3 {
			t.Errorf("%d samples, want the ≥ 3 read before the cancel", n)
		}
		calls := f.calls.Load()
		time.Sleep(20 * time.Millisecond)
		if f.calls.Load() != calls {
			t.Error("still sampling after the context ended and Stop returned")
		}
	})
	t.Run("no sampler", func(t *testing.T) {
		rec := memory.Record(context.Background(), nil, time.Now(), 0, nil)
		series := stopWithin(t, rec)
		failed, err := rec.Failures()
		if len(series.Samples) != 0 || failed != 1 || err == nil || !strings.Contains(err.Error(), "no memory sampler") {
			t.Errorf("%+v, %d, %v", series, failed, err)
		}
	})
	t.Run("default interval", func(t *testing.T) {
		f := &fakeSampler{read: func(context.Context, int64) (memory.Reading, error) {
			return memory.Reading{Bytes: 5, GCCycles: -1}, nil
		}}
		rec := memory.Record(context.Background(), f, time.Now(), 0, nil)
		waitCalls(t, f, 1)
		if n := len(stopWithin(t, rec).Samples); n < 1 {
			t.Errorf("%d samples, want the one taken at once", n)
		}
	})
}

func stopWithin(t *testing.T, rec *memory.Recording) *result.MemorySeries {
	t.Helper()
	got := make(chan *result.MemorySeries, 1)
	go func() { got <- rec.Stop() }()
	select {
	case s := <-got:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return in 10 s")
	}
	return nil
}
