package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"lab/cli/clitest"
	"lab/deploy/kube"
	"lab/gates/exitcode"
	"lab/lang"
)

// TestK8sShopRunsThePlansKnobs: the shop Deployment's LAB_SUT_* variables,
// read by `lab sut` as the container would, give the shop that lab apply
// starts for the plan, on every shipped plan with a shop.
func TestK8sShopRunsThePlansKnobs(t *testing.T) {
	files, err := scenarioFiles("plans")
	if err != nil || len(files) == 0 {
		t.Fatalf("no plans: %v", err)
	}
	for _, f := range files {
		plan, diags := lang.Load(f, lang.Options{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if plan.SUT == nil {
			continue
		}
		shop := k8sShop(t, plan)
		c := shop.Spec.Template.Spec.Containers[0]
		vars := map[string]string{}
		for _, e := range c.Env {
			vars[e.Name] = e.Value
		}
		env, _, errs := sutTestEnv(vars)
		if len(c.Args) == 0 || c.Args[0] != "sut" {
			t.Fatalf("%s: the shop runs %q", f, c.Args)
		}
		got, _, err := parseSUTArgs(env, c.Args[1:])
		if err != nil {
			t.Fatalf("%s: lab sut %q refused (%v): %s", f, c.Args, err, errs)
		}
		want, err := planKnobs(plan.SUT)
		if err != nil {
			t.Fatal(err)
		}
		want.Listen = got.Listen // the pod's address, not the plan's
		if !sameKnobs(got, want) {
			t.Errorf("%s: the shop in Kubernetes runs\n%+v\nlab apply starts\n%+v", f, got, want)
		}
	}
}

func k8sShop(t *testing.T, plan *lang.Plan) *appsv1.Deployment {
	t.Helper()
	arts, notes, err := artifacts(plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) > 0 {
		t.Fatalf("%s: %v", plan.File, notes)
	}
	for _, a := range arts {
		if a.name != "k8s.yaml" {
			continue
		}
		objs, err := kube.Decode(a.data)
		if err != nil {
			t.Fatalf("%s: %v", plan.File, err)
		}
		for _, o := range objs {
			if d, ok := o.(*appsv1.Deployment); ok {
				return d
			}
		}
		t.Fatalf("%s: k8s.yaml has no shop Deployment", plan.File)
	}
	t.Fatalf("%s: lab plan writes no k8s.yaml", plan.File)
	return nil
}

// TestPlanNotesAnUndeployablePlan: a plan whose shop the workload cannot be
// pointed at in a cluster (no variable host) still plans, with a note, and
// no k8s.yaml.
func TestPlanNotesAnUndeployablePlan(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	plan := clitest.WritePlan(t, dir, "nohost.hcl", clitest.OneRoute, "http://127.0.0.1:8080",
		"sut \"shop\" {\n  latency = \"1ms\"\n}\n"+clitest.ClosedShape("5s", 1))
	code, _, stderr := lab(t, nil, "plan", plan, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "note: no k8s.yaml for plan nohost") || !strings.Contains(stderr, `variable "host"`) {
		t.Errorf("stderr does not say why there is no k8s.yaml: %q", stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "nohost", "plan.txt")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(out, "nohost", "k8s.yaml")); !os.IsNotExist(err) {
		t.Errorf("k8s.yaml written for a plan it cannot deploy (%v)", err)
	}
}

// TestK8sCommandLinesParse: lab takes the command lines k8s.yaml gives
// the shop, the master and the workers: each, with -h after it, is parsed
// in full (an unknown flag is exit 2) and prints its help.
func TestK8sCommandLinesParse(t *testing.T) {
	plan, diags := lang.Load("plans/smoke.hcl", lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	pods := clitest.K8sPods(t, plan)
	for _, spec := range []corev1.PodSpec{pods.Shop.Spec.Template.Spec, pods.Master.Spec.Template.Spec, pods.Workers.Spec.Template.Spec} {
		c := spec.Containers[0]
		args := clitest.ExpandVars(c.Args, map[string]string{"LAB_WORKER_INDEX": "0"})
		if code, _, stderr := lab(t, nil, append(args, "-h")...); code != exitcode.OK {
			t.Errorf("%s: lab %s: exit %d: %s", c.Name, strings.Join(args, " "), code, stderr)
		}
	}
}
