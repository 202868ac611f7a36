package cli

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/lang"
)

// Every shipped plan's sut block becomes knobs the shop accepts.
func TestShippedPlansStartTheShopTheyDescribe(t *testing.T) {
	files, _ := scenarioFiles("plans")
	checked := 0
	for _, f := range files {
		p, diags := lang.Load(f, lang.Options{})
		if diags.HasErrors() {
			t.Errorf("%s: %s", f, diags.Error())
			continue
		}
		if p.SUT == nil {
			continue
		}
		checked++
		k, err := planKnobs(p.SUT)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if k.Listen != p.SUT.Listen {
			t.Errorf("%s: shop listens on %s, plan says %s", f, k.Listen, p.SUT.Listen)
		}
		if err := k.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if checked < 6 {
		t.Errorf("only %d shipped plans start the shop; every scenario does", checked)
	}
}

// loadSUTPlan loads a plan whose sut block is body.
func loadSUTPlan(t *testing.T, body string) *lang.Plan {
	t.Helper()
	dir := t.TempDir()
	file := clitest.WritePlan(t, dir, "shop.hcl", clitest.TwoRoutes, "http://127.0.0.1:1", clitest.OpenShape("1s", "1/s")+"sut \"shop\" {\n"+body+"}\n")
	p, diags := lang.Load(file, lang.Options{})
	if diags.HasErrors() {
		t.Fatalf("%s", diags.Error())
	}
	return p
}

// lab apply sets the shop's knobs straight from the plan, with the values
// the plan wrote.
func TestApplySetsThePlansKnobs(t *testing.T) {
	p := loadSUTPlan(t, `  listen = "127.0.0.1:0"
  latency = "1.5ms"
  route_latency = { "POST /checkout" = "50ms", "GET /" = "1s" }
  error_rate = "10%"
  tail_factor = 12.5
  leak_per_request = "50KB"
  admin_token = "a-long-enough-token"
`)
	k, err := planKnobs(p.SUT)
	if err != nil {
		t.Fatal(err)
	}
	if k.Listen != "127.0.0.1:0" || k.Latency != 1500*time.Microsecond || k.ErrorRate != 0.1 ||
		k.TailFactor != 12.5 || k.LeakPerRequest != 50_000 || k.AdminToken != "a-long-enough-token" ||
		len(k.RouteLatency) != 2 || k.RouteLatency["POST /checkout"] != 50*time.Millisecond || k.RouteLatency["GET /"] != time.Second {
		t.Errorf("knobs %+v", k)
	}
	if k.Products != 500 || k.Seed != 1 {
		t.Errorf("unset knobs are not the shop's defaults: %+v", k)
	}
}

// A value the plan language accepts but the shop refuses is reported with
// the knob and its file:line in the plan.
func TestApplyNamesThePlansLineOfARefusedKnob(t *testing.T) {
	p := loadSUTPlan(t, "  error_rate = 0.1\n  admin_token = \"short\"\n")
	src, err := os.ReadFile(p.SUT.Range.Filename)
	if err != nil {
		t.Fatal(err)
	}
	before, _, _ := strings.Cut(string(src), "admin_token")
	want := fmt.Sprintf("%s:%d: admin_token: too short", p.SUT.Range.Filename, strings.Count(before, "\n")+1)
	if _, err := planKnobs(p.SUT); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one saying %q", err, want)
	}
}

// A LAB_SUT_<KNOB> variable wins over the plan's value for one run (not
// listen: the plan's host decides where the shop is), and a bad one is
// refused naming the variable.
func TestShopKnobsFromTheEnvironment(t *testing.T) {
	p, diags := lang.Load("plans/smoke.hcl", lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	k, err := planKnobs(p.SUT)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"LAB_SUT_LATENCY": "3ms", "LAB_SUT_LISTEN": "0.0.0.0:1", "LAB_SUT_ADMIN_TOKEN": "a-token-long-enough-for-the-shop"}
	got, said, err := envKnobs(k, func(n string) string { return vars[n] })
	if err != nil {
		t.Fatal(err)
	}
	if got.Latency != 3*time.Millisecond || got.Listen != k.Listen || got.WrongRate != k.WrongRate {
		t.Errorf("knobs %+v: want latency 3ms, the plan's listen and wrong_rate", got)
	}
	if fmt.Sprint(said) != "[LAB_SUT_LATENCY=3ms]" {
		t.Errorf("said %q: the token must not be printed, listen not taken", said)
	}
	vars = map[string]string{"LAB_SUT_LATENCY": "fast"}
	if _, _, err := envKnobs(k, func(n string) string { return vars[n] }); err == nil || !strings.Contains(err.Error(), "LAB_SUT_LATENCY") {
		t.Errorf("a bad knob variable: %v", err)
	}
}
