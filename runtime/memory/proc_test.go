package memory_test

import (
	"context"
	"os"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"lab/lang"
	"lab/runtime/memory"
	"lab/runtime/memory/hogtest"
)

func sample(t *testing.T, s memory.Sampler) memory.Reading {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.Sample(ctx)
	if err != nil {
		t.Fatalf("%s: %v", s.Source(), err)
	}
	return r
}

// A child that allocates and touches 64 MiB grows its RssAnon by that much.
func TestPIDSamplerSeesAChildAllocate(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("/proc/PID/status is Linux's")
	}
	h := hogtest.Start(t, hogtest.Build(t))
	s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemoryPID, PID: h.PID()}, memory.SUTInfo{})
	if err != nil {
		t.Fatal(err)
	}
	before := sample(t, s)
	const n = 64 * hogtest.MiB
	h.Alloc(t, n)
	after := sample(t, s)
	grew := after.Bytes - before.Bytes
	t.Logf("%s: %.1f MiB → %.1f MiB, grew %.2f MiB for %d MiB allocated",
		s.Source(), before.Bytes/hogtest.MiB, after.Bytes/hogtest.MiB, grew/hogtest.MiB, n/hogtest.MiB)
	if grew < 0.95*n || grew > 1.10*n {
		t.Errorf("grew %.2f MiB, want about %d MiB", grew/hogtest.MiB, n/hogtest.MiB)
	}
	if after.GCCycles != -1 {
		t.Errorf("GC cycles %d, want -1 (unknown from outside the process)", after.GCCycles)
	}
	if s.Kind() != memory.KindRSSAnon || !strings.HasPrefix(s.Source(), "RssAnon of pid ") {
		t.Errorf("kind %q, source %q; want rss_anon, RssAnon of pid …", s.Kind(), s.Source())
	}

	h.Stop(t)
	if _, err := s.Sample(context.Background()); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("sampling an exited process: %v, want an error saying it is not running", err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	hogtest.Cleanup()
	os.Exit(code)
}
