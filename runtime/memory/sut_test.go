package memory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lab/gates/leak"
	"lab/lang"
	"lab/runtime/memory"
	"lab/runtime/memory/hogtest"
	"lab/sut"
	"lab/sut/shoptest"
)

// The names this package reads are the ones the shop exports.
func TestMetricNamesMatchTheShop(t *testing.T) {
	for _, c := range []struct{ ours, shop string }{
		{memory.MetricHeapLive, sut.MetricHeapLive},
		{memory.MetricGCCycles, sut.MetricGCCycles},
		{memory.MetricResident, sut.MetricResidentBytes},
	} {
		if c.ours != c.shop {
			t.Errorf("memory reads %q, the shop exports %q", c.ours, c.shop)
		}
	}
}

// startShop serves a shop in this process on 127.0.0.1:0 until the test ends.
func startShop(t *testing.T, k sut.Knobs) string {
	url := shoptest.Start(t, k)
	// Runs before the shop stops: a connection the client dialled but never
	// used would hold the shop's graceful shutdown for its 5 s grace.
	t.Cleanup(shopClient.CloseIdleConnections)
	return url
}

var shopClient = &http.Client{Timeout: 10 * time.Second}

func post(t *testing.T, url, body string) map[string]any {
	t.Helper()
	resp, err := shopClient.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return nil
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != 200 {
		t.Errorf("POST %s %s: %s, %v", url, body, resp.Status, err)
	}
	return v
}

// checkouts opens and checks out n carts from 4 clients.
func checkouts(t *testing.T, base string, n int, done *atomic.Int64) {
	t.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && !t.Failed() {
				c := post(t, base+"/cart", `{"product_id": 1, "qty": 1}`)
				id, _ := c["cart_id"].(float64)
				post(t, base+"/checkout", fmt.Sprintf(`{"cart_id": %d}`, int64(id)))
				if done != nil {
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
}

// The shop's live heap and GC cycles come from its /metrics, and 300
// checkouts leaking 64 KiB each grow the live heap by about 300 × 64 KiB.
func TestSUTSamplerReadsTheLiveHeap(t *testing.T) {
	const leakEach, n = 64 << 10, 300
	k := sut.DefaultKnobs()
	k.LeakPerRequest = leakEach
	base := startShop(t, k)
	s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemorySUT, Name: "shop"},
		memory.SUTInfo{PID: os.Getpid(), BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	// The live heap is measured by a GC: collect so that the reading is now's.
	goruntime.GC()
	before := sample(t, s)
	checkouts(t, base, n, nil)
	goruntime.GC()
	after := sample(t, s)

	grew := after.Bytes - before.Bytes
	t.Logf("%s: %.1f MiB → %.1f MiB (grew %.2f MiB for %.2f MiB leaked), GC cycles %d → %d",
		s.Source(), before.Bytes/hogtest.MiB, after.Bytes/hogtest.MiB, grew/hogtest.MiB, float64(n*leakEach)/hogtest.MiB, before.GCCycles, after.GCCycles)
	if s.Kind() != memory.KindHeapLive || !strings.Contains(s.Source(), memory.MetricHeapLive) {
		t.Errorf("kind %q, source %q; want the live heap", s.Kind(), s.Source())
	}
	if before.GCCycles < 1 || after.GCCycles < before.GCCycles+1 {
		t.Errorf("GC cycles %d → %d, want known and counting the goruntime.GC in between", before.GCCycles, after.GCCycles)
	}
	if leaked := float64(n * leakEach); grew < 0.9*leaked || grew > 1.25*leaked {
		t.Errorf("live heap grew %.2f MiB, want about the %.2f MiB leaked", grew/hogtest.MiB, leaked/hogtest.MiB)
	}
}

// A Recording of the shop under checkouts: ordered samples, known GC cycles,
// the completed-request count beside each, and a growing live heap.
func TestRecordTheShop(t *testing.T) {
	const leakEach = 64 << 10
	k := sut.DefaultKnobs()
	k.LeakPerRequest = leakEach
	base := startShop(t, k)
	s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemorySUT, Name: "shop"}, memory.SUTInfo{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Int64
	goruntime.GC()
	rec := memory.Record(context.Background(), s, time.Now(), 50*time.Millisecond, done.Load)
	t.Cleanup(func() { rec.Stop() })
	waitSamples(t, rec, 1)
	for range 5 {
		checkouts(t, base, 50, &done)
		goruntime.GC()
		// Two more: a reading in flight during the GC may predate it.
		waitSamples(t, rec, rec.Len()+2)
	}
	series := rec.Stop()

	n := len(series.Samples)
	if n < 11 {
		t.Fatalf("%d samples, want at least 11", n)
	}
	first, last := series.Samples[0], series.Samples[n-1]
	t.Logf("%d samples over %.2f s: %.1f → %.1f MiB, GC %d → %d, requests %d → %d",
		n, last.AtS-first.AtS, first.Bytes/hogtest.MiB, last.Bytes/hogtest.MiB, first.GCCycles, last.GCCycles, first.Requests, last.Requests)
	for i, x := range series.Samples {
		if x.GCCycles < 0 || x.Requests < 0 {
			t.Errorf("sample %d: GC cycles %d, requests %d; want both known", i, x.GCCycles, x.Requests)
		}
		if i > 0 {
			p := series.Samples[i-1]
			if x.AtS <= p.AtS || x.GCCycles < p.GCCycles || x.Requests < p.Requests {
				t.Errorf("sample %d %+v does not follow %+v", i, x, p)
			}
		}
	}
	if first.Requests != 0 || last.Requests != 250 {
		t.Errorf("requests %d → %d, want 0 → 250", first.Requests, last.Requests)
	}
	if grew, leaked := last.Bytes-first.Bytes, 250.0*leakEach; grew < 0.8*leaked {
		t.Errorf("live heap grew %.2f MiB over the recording, want about the %.2f MiB leaked", grew/hogtest.MiB, leaked/hogtest.MiB)
	}
	if series.Kind != memory.KindHeapLive || series.Source != s.Source() {
		t.Errorf("series kind %q source %q", series.Kind, series.Source)
	}
	if _, err := leak.ParseSource(series.Kind); err != nil {
		t.Errorf("the leak hunter does not read this series: %v", err)
	}
	if failed, err := rec.Failures(); failed != 0 {
		t.Errorf("%d failed readings, last: %v", failed, err)
	}
}

// waitSamples waits (bounded) until rec holds n samples.
func waitSamples(t *testing.T, rec *memory.Recording, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for rec.Len() < n {
		if time.Now().After(deadline) {
			failed, err := rec.Failures()
			t.Fatalf("%d samples after 20 s, want %d (%d failed, last: %v)", rec.Len(), n, failed, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
