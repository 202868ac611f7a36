package main

import (
	"strings"
	"testing"

	"lab/gates/exitcode"
	"lab/lang"
	"lab/sut"
)

// The plan language's sut block and the shop must know the same knobs, of
// the same kinds, and the same routes: a plan's knob becomes a `lab sut`
// flag when lab apply starts the shop.
func TestPlanKnobsMatchTheShop(t *testing.T) {
	shop := map[string]sut.KnobSpec{}
	for _, k := range sut.KnobSpecs() {
		shop[k.Name] = k
	}
	plan := map[string]bool{}
	for _, k := range lang.SUTKnobs() {
		plan[k.Name] = true
		s, ok := shop[k.Name]
		switch {
		case !ok:
			t.Errorf("the plan language knows knob %q, the shop does not", k.Name)
		case s.Kind != k.Kind:
			t.Errorf("knob %q: plan kind %q, shop kind %q", k.Name, k.Kind, s.Kind)
		case s.Flag != strings.ReplaceAll(k.Name, "_", "-"):
			t.Errorf("knob %q: flag %q", k.Name, s.Flag)
		}
	}
	for name := range shop {
		if !plan[name] {
			t.Errorf("the shop has knob %q, the plan language does not", name)
		}
	}
	if strings.Join(lang.SUTRoutes(), ",") != strings.Join(sut.Routes, ",") {
		t.Errorf("routes differ: plan %v, shop %v", lang.SUTRoutes(), sut.Routes)
	}
}

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
		var args []string
		for _, k := range p.SUT.Knobs {
			args = append(args, "--"+strings.ReplaceAll(k.Name, "_", "-"), k.Text)
		}
		noEnv := &cmdEnv{stdout: discard{}, stderr: discard{}, getenv: func(string) string { return "" }}
		k, _, stop, code := parseSUTArgs(noEnv, args)
		if stop || code != exitcode.OK {
			t.Errorf("%s: the shop refuses %v", f, args)
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

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
