package kube_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"lab/deploy/kube"
	"lab/lang"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden holds k8s.yaml byte for byte for a plan with a shop, knobs of
// several kinds, variables and a shape given to `lab plan`, 3 workers and
// a workload in another folder; and for a plan without a shop. After a
// change on purpose, go test ./deploy/kube -update rewrites them.
func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		plan *lang.Plan
	}{
		{"dist", load(t, distPlan, lang.Options{Vars: []string{"users=7"}, Shape: "burst"}, 3)},
		{"external", load(t, "testdata/plans/scenarios/external.hcl", lang.Options{}, 2)},
	}
	for _, c := range cases {
		got, err := kube.YAML(c.plan)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", c.name+".k8s.yaml.golden")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./deploy/kube -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs (if the change is meant, run go test ./deploy/kube -update):\n--- got\n%s--- want\n%s", path, got, want)
		}
	}
}
