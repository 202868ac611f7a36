package clitest

import (
	"regexp"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"lab/deploy/kube"
	"lab/lang"
)

// K8sParts are the parts of a k8s.yaml that run.
type K8sParts struct {
	Plans           *corev1.ConfigMap
	Shop            *appsv1.Deployment
	Master, Workers *batchv1.Job
}

// K8sPods writes plan's k8s.yaml as lab plan does and reads it back.
func K8sPods(t *testing.T, plan *lang.Plan) K8sParts {
	t.Helper()
	data, err := kube.YAML(plan)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kube.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	var p K8sParts
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			p.Shop = o
		case *corev1.ConfigMap:
			p.Plans = o
		case *batchv1.Job:
			if o.Labels[kube.LabelComponent] == kube.ComponentWorker {
				p.Workers = o
			} else {
				p.Master = o
			}
		}
	}
	if p.Shop == nil || p.Master == nil || p.Workers == nil || p.Plans == nil {
		t.Fatal("k8s.yaml lacks a part")
	}
	return p
}

var kubeVarRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// ExpandVars does what the kubelet does to a container's arguments:
// $(NAME) becomes the value of the container's variable NAME.
func ExpandVars(args []string, env map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = kubeVarRef.ReplaceAllStringFunc(a, func(ref string) string {
			if v, ok := env[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
	}
	return out
}
