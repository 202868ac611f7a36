package sut

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// Every knob of the table is a field of Knobs that Set can reach.
func TestEveryKnobHasAField(t *testing.T) {
	var k Knobs
	for _, spec := range KnobSpecs() {
		if k.field(spec.Name) == nil {
			t.Errorf("knob %s has no field in Knobs", spec.Name)
		}
	}
	if n := reflect.TypeOf(k).NumField(); n != len(KnobSpecs()) {
		t.Errorf("Knobs has %d fields, the table %d knobs", n, len(KnobSpecs()))
	}
}

func TestSet(t *testing.T) {
	k := DefaultKnobs()
	for name, text := range map[string]string{
		"listen": " 127.0.0.1:0 ", "seed": "-42", "products": "12", "latency": "1.5ms",
		"route_latency": "GET /=1s, POST /checkout=50ms", "tail_ratio": "1%", "tail_factor": "12.5",
		"error_rate": "0.1", "leak_per_request": "50KB", "gc_churn": "1MiB", "admin_token": "a-long-enough-token",
	} {
		if err := k.Set(name, text); err != nil {
			t.Errorf("Set(%s, %q): %v", name, text, err)
		}
	}
	want := DefaultKnobs()
	want.Listen, want.Seed, want.Products, want.Latency = "127.0.0.1:0", -42, 12, 1500*time.Microsecond
	want.RouteLatency = map[string]time.Duration{"GET /": time.Second, "POST /checkout": 50 * time.Millisecond}
	want.TailRatio, want.TailFactor, want.ErrorRate = 0.01, 12.5, 0.1
	want.LeakPerRequest, want.GCChurn, want.AdminToken = 50_000, 1<<20, "a-long-enough-token"
	if !reflect.DeepEqual(k, want) {
		t.Errorf("set\n%+v, want\n%+v", k, want)
	}

	// A text that does not parse is refused and leaves the knob as it was;
	// the error does not name the knob, which the caller places.
	for _, c := range []struct{ name, text, says string }{
		{"seed", "x", `"x" is not an integer`},
		{"tail_factor", "x", `"x" is not a number`},
		{"error_rate", "lots", `invalid ratio "lots"`},
		{"latency", "20", "has no unit"},
		{"gc_churn", "5 parsecs", "unknown size unit"},
		{"route_latency", "GET /product=1ms", `unknown route "GET /product" (did you mean "GET /products"?)`},
		{"no_such_knob", "1", `no knob "no_such_knob"`},
	} {
		before := k.clone()
		err := k.Set(c.name, c.text)
		if err == nil || !strings.Contains(err.Error(), c.says) || strings.HasPrefix(err.Error(), c.name) {
			t.Errorf("Set(%s, %q): error %v, want one saying %q", c.name, c.text, err, c.says)
		}
		if !reflect.DeepEqual(k, before) {
			t.Errorf("Set(%s, %q) failed but changed the knobs", c.name, c.text)
		}
	}
}

// Text prints every knob in the units Set reads, and never the token.
func TestText(t *testing.T) {
	k := DefaultKnobs()
	k.RouteLatency = map[string]time.Duration{"POST /checkout": 50 * time.Millisecond, "GET /": time.Second}
	k.ErrorRate, k.LeakPerRequest, k.Contention, k.AdminToken = 0.1, 51_200, 90*time.Second, "a-long-enough-token"
	want := map[string]string{
		"listen": "127.0.0.1:8080", "seed": "1", "products": "500", "latency": "0s", "latency_jitter": "0s",
		"route_latency": "GET /=1s, POST /checkout=50ms", "tail_ratio": "0%", "tail_factor": "10",
		"error_rate": "10%", "wrong_rate": "0%", "leak_per_request": "50KiB", "contention": "1m30s",
		"gc_churn": "0B", "admin_token": "set",
	}
	for _, spec := range KnobSpecs() {
		got := k.Text(spec.Name)
		if got != want[spec.Name] {
			t.Errorf("Text(%s) = %q, want %q", spec.Name, got, want[spec.Name])
		}
		if spec.Name == "admin_token" {
			continue
		}
		back := DefaultKnobs()
		if err := back.Set(spec.Name, got); err != nil || back.Text(spec.Name) != got {
			t.Errorf("Set(%s, %q): %v; reads back as %q", spec.Name, got, err, back.Text(spec.Name))
		}
	}
	if got := DefaultKnobs().Text("admin_token"); got != "" {
		t.Errorf("no token prints as %q", got)
	}
}
