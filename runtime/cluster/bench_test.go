package cluster

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"lab/runtime/result"
)

// BenchmarkMaster64Workers is the master's cost of a 64-worker run: each
// op is 30 seconds of it, 64 workers × 30 syncs, each carrying a second
// of 1,000 requests over 5 names (the second's encoded histogram) and,
// every tenth, a window of 5 names with two histograms each. docs/BENCHMARKS.md
// turns ns/op into the share of one core.
func BenchmarkMaster64Workers(b *testing.B) {
	const workers, seconds, names = 64, 30, 5
	plan, o := loadPlan(b, "http://127.0.0.1:9", closedShape)
	rng := rand.New(rand.NewPCG(1, 2))
	hist := func() string {
		h := result.NewHist()
		for range 1000 {
			h.RecordValue(int64(500 + rng.ExpFloat64()*2000))
		}
		s, _ := result.Encode(h)
		return s
	}
	start := time.Now().Truncate(10 * time.Second).Add(10 * time.Second)
	t0 := start.Unix()
	bodies := make([][][]byte, seconds)
	for s := range seconds {
		bodies[s] = make([][]byte, workers)
		for w := range workers {
			msg := Sync{ID: w + 1, Seq: int64(s + 1), HaveOrder: true, ShareVersion: 1, SecMark: t0 + int64(s) + 1,
				WinMark: t0 + int64(s+1)/10*10, Users: 10}
			sec := Second{Second: result.Second{T: t0 + int64(s), Users: 10, Requests: 1000, P50: 1200, P95: 5000, P99: 9000, Max: 20000},
				Counts: make([][2]int64, names), Hist: hist()}
			for i := range sec.Counts {
				sec.Counts[i] = [2]int64{200, 1}
			}
			msg.Seconds = []Second{sec}
			if (s+1)%10 == 0 {
				win := Window{T: t0 + int64(s+1)/10*10 - 10, Names: make([]*result.Window, names)}
				for i := range win.Names {
					win.Names[i] = &result.Window{T: win.T, Count: 2000, Failures: 10, Hist: hist(), SvcHist: hist()}
				}
				msg.Windows = []Window{win}
			}
			bodies[s][w], _ = json.Marshal(msg)
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		m := &Master{cfg: MasterConfig{Plan: plan, Order: o, Version: "b", Workers: workers}, names: make([]string, names), state: Running,
			secs: map[int64]*secAcc{}, pending: map[int64]*secAcc{}, wins: map[int64]*winAcc{}, start: start, secDone: t0, winDone: t0}
		for w := range workers {
			m.members = append(m.members, &member{id: w + 1, me: w, lastSeen: time.Now(), trail: map[int64]*Second{}})
		}
		b.StartTimer()
		for s := range seconds {
			for w := range workers {
				req := httptest.NewRequest(http.MethodPost, syncPath, bytes.NewReader(bodies[s][w]))
				m.handleSync(httptest.NewRecorder(), req)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(seconds*1e9)*100, "%core")
}
