package sut

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestKnobSpecs(t *testing.T) {
	want := map[string]string{
		"listen": "address", "seed": "int", "products": "int",
		"latency": "duration", "latency_jitter": "duration", "route_latency": "routes",
		"tail_ratio": "ratio", "tail_factor": "number", "error_rate": "ratio", "wrong_rate": "ratio",
		"leak_per_request": "size", "leak_route": "route", "contention": "duration", "gc_churn": "size", "admin_token": "string",
	}
	specs := KnobSpecs()
	if len(specs) != len(want) {
		t.Errorf("%d knobs, want %d", len(specs), len(want))
	}
	for _, s := range specs {
		if want[s.Name] != s.Kind {
			t.Errorf("knob %s is of kind %q, want %q", s.Name, s.Kind, want[s.Name])
		}
		if s.Flag != strings.ReplaceAll(s.Name, "_", "-") || s.Env != "LAB_SUT_"+strings.ToUpper(s.Name) {
			t.Errorf("knob %s: flag %q, env %q", s.Name, s.Flag, s.Env)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultKnobs().Validate(); err != nil {
		t.Fatalf("the defaults are invalid: %v", err)
	}
	cases := []struct {
		edit func(*Knobs)
		says string
	}{
		{func(k *Knobs) { k.Listen = "8080" }, "listen"},
		{func(k *Knobs) { k.Listen = "127.0.0.1:99999" }, "invalid port"},
		{func(k *Knobs) { k.Products = 0 }, "products"},
		{func(k *Knobs) { k.Products = 1_000_000 }, "products"},
		{func(k *Knobs) { k.Latency = -time.Millisecond }, "latency"},
		{func(k *Knobs) { k.Contention = time.Hour }, "contention"},
		{func(k *Knobs) { k.RouteLatency = map[string]time.Duration{"GET /product": time.Millisecond} }, `unknown route "GET /product"`},
		{func(k *Knobs) { k.LeakRoute = "POST /carts" }, `leak_route: unknown route "POST /carts"`},
		{func(k *Knobs) { k.ErrorRate = 1.01 }, "error_rate"},
		{func(k *Knobs) { k.WrongRate = -0.1 }, "wrong_rate"},
		{func(k *Knobs) { k.TailRatio = 2 }, "tail_ratio"},
		{func(k *Knobs) { k.TailFactor = 0.5 }, "tail_factor"},
		{func(k *Knobs) { k.LeakPerRequest = 2 << 30 }, "leak_per_request"},
		{func(k *Knobs) { k.GCChurn = -1 }, "gc_churn"},
		{func(k *Knobs) { k.AdminToken = "short" }, "too short"},
		{func(k *Knobs) { k.AdminToken = "has a space in it" }, "spaces"},
	}
	for _, c := range cases {
		k := DefaultKnobs()
		c.edit(&k)
		err := k.Validate()
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: error %v, want one saying %q", k, err, c.says)
		}
		if _, err := New(k); err == nil {
			t.Errorf("New accepted %+v", k)
		}
	}
	// Every problem is reported, not just the first.
	k := DefaultKnobs()
	k.ErrorRate, k.Products = 3, 0
	if err := k.Validate(); err == nil || !strings.Contains(err.Error(), "error_rate") || !strings.Contains(err.Error(), "products") {
		t.Errorf("two problems, error: %v", err)
	}
}

func TestArgs(t *testing.T) {
	if args := DefaultKnobs().Args(); len(args) != 0 {
		t.Errorf("the defaults need no arguments, got %q", args)
	}
	k := DefaultKnobs()
	k.Listen = "127.0.0.1:0"
	k.Latency = 1500 * time.Microsecond
	k.RouteLatency = map[string]time.Duration{"POST /checkout": 50 * time.Millisecond, "GET /": time.Second}
	k.ErrorRate = 0.1
	k.LeakPerRequest = 50_000
	got := k.Args()
	want := []string{
		"--listen=127.0.0.1:0", "--latency=1.5ms",
		"--route-latency=GET /=1s", "--route-latency=POST /checkout=50ms",
		"--error-rate=0.1", "--leak-per-request=50000B",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Args() = %q,\nwant %q", got, want)
	}
	// The order follows KnobSpecs, so Args is canonical.
	if !slices.Equal(k.Args(), got) {
		t.Error("Args is not deterministic")
	}
}
