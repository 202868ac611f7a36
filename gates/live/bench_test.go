package live

import (
	"testing"
	"time"

	"lab/runtime/result"
)

// BenchmarkViewOfARun is what the open page costs each second: one new
// second, then the page's poll, which judges the run so far and draws it
// (a run of 10 minutes, five request names, a window every 10 s).
func BenchmarkViewOfARun(b *testing.B) {
	p := New(testPlan(b), 10*time.Second)
	start := time.Unix(1_800_000_000, 0)
	p.SetStop(func(string) {})
	p.Start(start)
	sec := 0
	tick := func() {
		p.Tick(Status{Elapsed: time.Duration(sec+1) * time.Second, Total: time.Hour, Stage: 1, Stages: 1, Users: 100, Target: 100},
			result.Second{T: start.Unix() + int64(sec), Users: 100, Requests: 5000, P50: 2000, P95: 9000},
			[][2]int64{{2500, 1}, {2500, 0}})
		if sec%10 == 9 {
			at := start.Unix() + int64(sec) - 9
			_ = p.Window([]*result.Window{window(b, at, 25000, 3000), window(b, at, 25000, 2000)}, nil)
		}
		sec++
	}
	for range 600 {
		tick()
	}
	b.ResetTimer()
	for b.Loop() {
		tick()
		if v := p.View(); v.Error != "" {
			b.Fatal(v.Error)
		}
	}
}
