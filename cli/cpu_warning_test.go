package cli

import (
	"bytes"
	"strings"
	"testing"

	"lab/runtime/engine"
)

// The run says once, while it goes on, that the generator is short of
// CPU: after five busy seconds in a row, not after four and a quiet one;
// every tick still reaches the progress line.
func TestCPUWarning(t *testing.T) {
	var logs bytes.Buffer
	ticks := 0
	f := cpuWarning(&logs, func(engine.Tick) { ticks++ })
	for _, cpu := range []float64{0.95, 0.95, 0.95, 0.95, 0.3, 0.92, 0.95, 0.97, 0.99} {
		f(engine.Tick{CPU: cpu})
	}
	if logs.Len() != 0 {
		t.Fatalf("warned after four busy seconds: %q", logs.String())
	}
	f(engine.Tick{CPU: 0.96})
	f(engine.Tick{CPU: 0.96})
	if n := strings.Count(logs.String(), "warning: lab has used 96%"); n != 1 || ticks != 11 || !strings.Contains(logs.String(), "for 5 s") {
		t.Errorf("%d warnings, %d ticks passed on: %q", n, ticks, logs.String())
	}
}
