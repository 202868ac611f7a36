package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"lab/lang"
	"lab/runtime/engine"
	"lab/runtime/tally"
)

func tick(elapsed time.Duration) engine.Tick {
	return engine.Tick{Elapsed: elapsed, Total: time.Minute, Stage: 2, Stages: 3, Model: lang.Closed, Users: 200,
		Second: tally.SecondStats{Requests: 450, Failures: 3, P50: 12_000, P95: 45_000}, Requests: 9000, Failures: 20}
}

func TestLineSaysWhereTheRunIs(t *testing.T) {
	line := Line(tick(30*time.Second), false)
	for _, want := range []string{"30s/1m", "stage 2/3", "200 users", "450 req/s", "p50 12ms", "p95 45ms", "3 fail/s", "9000 requests, 20 failed", "██████████░░░░░░░░░░"} {
		if !strings.Contains(line, want) {
			t.Errorf("line lacks %q: %s", want, line)
		}
	}
	if strings.Contains(line, "\x1b") {
		t.Error("colour without asking")
	}
	if !strings.Contains(Line(tick(time.Second), true), "\x1b[31m") {
		t.Error("failures not coloured when asked")
	}
	open := tick(time.Second)
	open.Model, open.Rate, open.InFlight = lang.Open, 200, 7
	if l := Line(open, false); !strings.Contains(l, "200/s target, 7 in flight") {
		t.Errorf("open model line: %s", l)
	}
}

func TestPlainOutputEveryTenSeconds(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, false, true, nil)
	for s := 1; s <= 25; s++ {
		p.Tick(tick(time.Duration(s) * time.Second))
	}
	p.Done()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || strings.Contains(b.String(), "\r") || strings.Contains(b.String(), "\x1b") {
		t.Errorf("plain output, 25 ticks: %q", b.String())
	}
	b.Reset()
	live := New(&b, true, false, nil)
	for s := 1; s <= 3; s++ {
		live.Tick(tick(time.Duration(s) * time.Second))
	}
	live.Done()
	if strings.Count(b.String(), "\r\x1b[K") != 3 || !strings.HasSuffix(b.String(), "\n") {
		t.Errorf("live output: %q", b.String())
	}
}
