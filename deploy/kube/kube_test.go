package kube_test

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"lab/deploy/kube"
	"lab/lang"
)

// manifests are a k8s.yaml decoded, each object by its part.
type manifests struct {
	all       []runtime.Object
	secret    *corev1.Secret
	plans     *corev1.ConfigMap
	shop      *appsv1.Deployment // nil for a plan without a sut block
	shopSvc   *corev1.Service
	masterSvc *corev1.Service
	master    *batchv1.Job
	workers   *batchv1.Job
}

// decode writes plan's k8s.yaml and reads it back with the API types.
func decode(t *testing.T, plan *lang.Plan) manifests {
	t.Helper()
	data, err := kube.YAML(plan)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kube.Decode(data)
	if err != nil {
		t.Fatalf("k8s.yaml does not decode: %v\n%s", err, data)
	}
	m := manifests{all: objs}
	seen := map[string]bool{}
	for _, o := range objs {
		component := o.(interface{ GetLabels() map[string]string }).GetLabels()[kube.LabelComponent]
		key := fmt.Sprintf("%T %s", o, component)
		if seen[key] {
			t.Fatalf("two objects %s", key)
		}
		seen[key] = true
		switch o := o.(type) {
		case *corev1.Secret:
			m.secret = o
		case *corev1.ConfigMap:
			m.plans = o
		case *appsv1.Deployment:
			m.shop = o
		case *corev1.Service:
			if component == kube.ComponentShop {
				m.shopSvc = o
			} else {
				m.masterSvc = o
			}
		case *batchv1.Job:
			if component == kube.ComponentWorker {
				m.workers = o
			} else {
				m.master = o
			}
		default:
			t.Fatalf("unexpected object %T", o)
		}
	}
	if m.secret == nil || m.plans == nil || m.masterSvc == nil || m.master == nil || m.workers == nil {
		t.Fatalf("missing objects: %d decoded", len(objs))
	}
	if (m.shop == nil) != (plan.SUT == nil) || (m.shopSvc == nil) != (plan.SUT == nil) {
		t.Fatalf("shop objects %v/%v for a plan whose sut block is %v", m.shop != nil, m.shopSvc != nil, plan.SUT != nil)
	}
	return m
}

// load reads a test plan. Those under testdata/plans/scenarios share a
// workload from a sibling folder, as --allow-outside-files lets a plan do:
// the ConfigMap must then lay out files from both folders.
func load(t *testing.T, file string, opts lang.Options, workers int) *lang.Plan {
	t.Helper()
	opts.AllowOutside = true
	plan, diags := lang.Load(file, opts)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	// lang refuses workers > 1 until the master and workers are built;
	// the manifests are sized by whatever the topology says.
	if workers > 0 {
		plan.Topology.Workers = workers
	}
	return plan
}

const distPlan = "testdata/plans/scenarios/dist.hcl"

// TestWiring checks that the objects find each other, for the test plans
// and every shipped plan, with one worker and with several.
func TestWiring(t *testing.T) {
	files := []string{distPlan, "testdata/plans/scenarios/external.hcl"}
	shipped, err := filepath.Glob("../../plans/*.hcl")
	if err != nil || len(shipped) == 0 {
		t.Fatalf("no shipped plans: %v", err)
	}
	for _, f := range shipped {
		if lang.IsPlanFile(f) {
			files = append(files, f)
		}
	}
	for _, f := range files {
		for _, workers := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/%d", filepath.Base(f), workers), func(t *testing.T) {
				plan := load(t, f, lang.Options{}, workers)
				m := decode(t, plan)
				checkServices(t, plan, m)
				checkToken(t, m)
				checkPlansMounted(t, plan, m)
				checkWorkers(t, plan, m)
				checkPods(t, m)
				checkApplySelector(t, m)
			})
		}
	}
}

// checkServices: each Service selects its own pods and no other, on a
// port its container serves; workers dial the master's Service and the
// workload is pointed at the shop's.
func checkServices(t *testing.T, plan *lang.Plan, m manifests) {
	t.Helper()
	pods := map[string]*corev1.PodTemplateSpec{"master": &m.master.Spec.Template, "worker": &m.workers.Spec.Template}
	if m.shop != nil {
		pods["shop"] = &m.shop.Spec.Template
		if !selects(m.shop.Spec.Selector.MatchLabels, &m.shop.Spec.Template) {
			t.Errorf("the shop Deployment's selector %v does not match its pods %v", m.shop.Spec.Selector.MatchLabels, m.shop.Spec.Template.Labels)
		}
	}
	svcs := map[string]*corev1.Service{"master": m.masterSvc}
	if m.shopSvc != nil {
		svcs["shop"] = m.shopSvc
	}
	for role, svc := range svcs {
		for other, pod := range pods {
			if got := selects(svc.Spec.Selector, pod); got != (other == role) {
				t.Errorf("Service %s selects the %s pods: %v", svc.Name, other, got)
			}
		}
		checkTargetPort(t, svc, pods[role])
	}
	host := argAfter(m.master.Spec.Template.Spec.Containers[0].Args, "-var", "host=")
	if m.shopSvc != nil {
		want := fmt.Sprintf("http://%s:%d", m.shopSvc.Name, m.shopSvc.Spec.Ports[0].Port)
		if host != want {
			t.Errorf("the master runs with -var host=%q; the shop's Service is %s", host, want)
		}
	} else if host != "" {
		t.Errorf("a plan without a shop runs with -var host=%q", host)
	}
}

func selects(sel map[string]string, pod *corev1.PodTemplateSpec) bool {
	return len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(pod.Labels))
}

// checkTargetPort: each of the Service's ports leads to a named port of
// the pod it selects, the same number on both sides; the master's Service
// has its metrics port too, where the master serves /metrics and the pod's
// prometheus.io annotations point.
func checkTargetPort(t *testing.T, svc *corev1.Service, pod *corev1.PodTemplateSpec) {
	t.Helper()
	if len(svc.Spec.Ports) == 0 {
		t.Fatalf("Service %s has no port", svc.Name)
	}
	for _, sp := range svc.Spec.Ports {
		i := slices.IndexFunc(pod.Spec.Containers[0].Ports, func(cp corev1.ContainerPort) bool { return cp.Name == sp.TargetPort.StrVal })
		switch {
		case i < 0:
			t.Errorf("Service %s targets port %q, which its pods do not name", svc.Name, sp.TargetPort.String())
		case pod.Spec.Containers[0].Ports[i].ContainerPort != sp.Port:
			t.Errorf("Service %s port %d leads to container port %d", svc.Name, sp.Port, pod.Spec.Containers[0].Ports[i].ContainerPort)
		}
	}
	if pod.Labels[kube.LabelComponent] != kube.ComponentMaster {
		return
	}
	metrics := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == "metrics" })
	args := strings.Join(pod.Spec.Containers[0].Args, " ")
	if metrics < 0 || !strings.Contains(args, fmt.Sprintf("--metrics 0.0.0.0:%d", svc.Spec.Ports[metrics].Port)) {
		t.Errorf("the master's Service has no metrics port where it serves them (%q)", args)
	}
	a := pod.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != fmt.Sprint(kube.MetricsPort) || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("the master's pods tell no Prometheus where to scrape: %v", a)
	}
}

// argAfter returns the value after flag in args whose text starts with
// prefix (without the prefix), or "".
func argAfter(args []string, flag, prefix string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && strings.HasPrefix(args[i+1], prefix) {
			return strings.TrimPrefix(args[i+1], prefix)
		}
	}
	return ""
}

// checkToken: master and workers read LAB_TOKEN from the Secret's key, and
// the Secret holds only the placeholder.
func checkToken(t *testing.T, m manifests) {
	t.Helper()
	if got := m.secret.StringData[kube.TokenKey]; got != kube.TokenPlaceholder || len(m.secret.Data) > 0 {
		t.Errorf("the Secret holds %q (and %d data keys), want only the placeholder", got, len(m.secret.Data))
	}
	for _, job := range []*batchv1.Job{m.master, m.workers} {
		var ref *corev1.SecretKeySelector
		for _, e := range job.Spec.Template.Spec.Containers[0].Env {
			if e.Name == kube.TokenEnv && e.ValueFrom != nil {
				ref = e.ValueFrom.SecretKeyRef
			}
		}
		if ref == nil {
			t.Errorf("Job %s: no %s from a Secret", job.Name, kube.TokenEnv)
			continue
		}
		if _, ok := m.secret.StringData[ref.Key]; ref.Name != m.secret.Name || !ok {
			t.Errorf("Job %s reads %s from %s/%s; the Secret is %s with key %s", job.Name, kube.TokenEnv, ref.Name, ref.Key, m.secret.Name, kube.TokenKey)
		}
	}
}

// checkPlansMounted: the ConfigMap holds every file the plan read, mounted
// in the master where its `lab apply` argument looks, each file where the
// plan finds it by the path it names it by.
func checkPlansMounted(t *testing.T, plan *lang.Plan, m manifests) {
	t.Helper()
	pod := m.master.Spec.Template.Spec
	var vol *corev1.Volume
	for i, v := range pod.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == m.plans.Name {
			vol = &pod.Volumes[i]
		}
	}
	if vol == nil {
		t.Fatalf("the master mounts no volume of ConfigMap %s", m.plans.Name)
	}
	mount := ""
	for _, vm := range pod.Containers[0].VolumeMounts {
		if vm.Name == vol.Name {
			mount = vm.MountPath
		}
	}
	if mount == "" {
		t.Fatalf("the master's container does not mount volume %s", vol.Name)
	}
	if len(vol.ConfigMap.Items) != len(plan.Sources) {
		t.Errorf("the volume maps %d files; the plan read %d", len(vol.ConfigMap.Items), len(plan.Sources))
	}
	// where each source lies in the master: by its content
	at := map[string]string{}
	for _, it := range vol.ConfigMap.Items {
		text, ok := m.plans.Data[it.Key]
		if !ok {
			t.Errorf("item %s names key %s, which the ConfigMap does not hold", it.Path, it.Key)
		}
		for f, src := range plan.Sources {
			if string(src) == text {
				at[f] = path.Join(mount, it.Path)
			}
		}
	}
	args := pod.Containers[0].Args
	if len(args) < 2 || args[0] != "apply" || args[1] != at[plan.File] {
		t.Fatalf("the master runs %q; the plan file is mounted at %q", args, at[plan.File])
	}
	for f := range plan.Sources {
		rel, err := filepath.Rel(filepath.Dir(plan.File), f)
		if err != nil {
			t.Fatal(err)
		}
		if want := path.Join(path.Dir(at[plan.File]), filepath.ToSlash(rel)); at[f] != want {
			t.Errorf("%s is mounted at %q; the plan looks for it at %q", f, at[f], want)
		}
	}
}

// checkWorkers: one Indexed Job of the plan's workers, dialling the
// master's Service, as many as the master waits for.
func checkWorkers(t *testing.T, plan *lang.Plan, m manifests) {
	t.Helper()
	n := int32(plan.Topology.Workers)
	spec := m.workers.Spec
	if *spec.CompletionMode != batchv1.IndexedCompletion || *spec.Completions != n || *spec.Parallelism != n {
		t.Errorf("workers Job: mode %s, completions %d, parallelism %d; want Indexed with %d", *spec.CompletionMode, *spec.Completions, *spec.Parallelism, n)
	}
	c := spec.Template.Spec.Containers[0]
	want := fmt.Sprintf("%s:%d", m.masterSvc.Name, m.masterSvc.Spec.Ports[0].Port)
	if len(c.Args) == 0 || c.Args[0] != "worker" || argAfter(c.Args, "--master", "") != want {
		t.Errorf("workers run %q; the master's Service is %s", c.Args, want)
	}
	for _, tsc := range spec.Template.Spec.TopologySpreadConstraints {
		if !selects(tsc.LabelSelector.MatchLabels, &spec.Template) {
			t.Errorf("the workers are spread by %v, which does not select them", tsc.LabelSelector.MatchLabels)
		}
	}
	if got := argAfter(m.master.Spec.Template.Spec.Containers[0].Args, "--workers", ""); got != strconv.Itoa(int(n)) {
		t.Errorf("the master waits for --workers %q; the Job runs %d", got, n)
	}
	if m.master.Spec.Completions == nil || *m.master.Spec.Completions != 1 || m.master.Spec.BackoffLimit == nil || *m.master.Spec.BackoffLimit != 0 {
		t.Errorf("the master Job must run once and never again")
	}
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// checkPods: every container runs lab:latest (kept if present), asks for
// CPU and memory within its limits, refers only to variables it defines,
// and every name is one a cluster takes.
func checkPods(t *testing.T, m manifests) {
	t.Helper()
	var specs []corev1.PodSpec
	for _, job := range []*batchv1.Job{m.master, m.workers} {
		specs = append(specs, job.Spec.Template.Spec)
	}
	if m.shop != nil {
		specs = append(specs, m.shop.Spec.Template.Spec)
	}
	for _, s := range specs {
		if len(s.Containers) != 1 {
			t.Fatalf("%d containers, want 1", len(s.Containers))
		}
		c := s.Containers[0]
		if c.Image != kube.Image || c.ImagePullPolicy != corev1.PullIfNotPresent {
			t.Errorf("%s: image %s (%s)", c.Name, c.Image, c.ImagePullPolicy)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
			if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
				t.Errorf("%s: %s request %s, limit %s", c.Name, r, req.String(), lim.String())
			}
		}
		defined := map[string]bool{}
		for _, e := range c.Env {
			defined[e.Name] = true
		}
		for _, a := range c.Args {
			for _, ref := range varRef.FindAllStringSubmatch(a, -1) {
				if !defined[ref[1]] {
					t.Errorf("%s: argument %q refers to $(%s), which the container does not define", c.Name, a, ref[1])
				}
			}
		}
		if s.SecurityContext == nil || s.SecurityContext.RunAsNonRoot == nil || !*s.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: pod may run as root", c.Name)
		}
	}
	for _, o := range m.all {
		obj := o.(interface {
			GetName() string
			GetLabels() map[string]string
		})
		if errs := validation.IsDNS1035Label(obj.GetName()); len(errs) > 0 {
			t.Errorf("%T %s: %v", o, obj.GetName(), errs)
		}
		if errs := metav1validation.ValidateLabels(obj.GetLabels(), field.NewPath("metadata", "labels")); len(errs) > 0 {
			t.Errorf("%T %s: %v", o, obj.GetName(), errs)
		}
	}
	for _, s := range specs {
		checkSpecNames(t, s)
	}
}

// checkSpecNames holds a pod's names to the API server's rules.
func checkSpecNames(t *testing.T, s corev1.PodSpec) {
	t.Helper()
	var errs []string
	for _, c := range s.Containers {
		errs = append(errs, validation.IsDNS1123Label(c.Name)...)
		for _, e := range c.Env {
			errs = append(errs, validation.IsEnvVarName(e.Name)...)
		}
		for _, p := range c.Ports {
			errs = append(errs, validation.IsValidPortName(p.Name)...)
		}
	}
	for _, v := range s.Volumes {
		errs = append(errs, validation.IsDNS1123Label(v.Name)...)
	}
	if len(errs) > 0 {
		t.Errorf("%s: %v", s.Containers[0].Name, errs)
	}
}

// checkApplySelector: the two `kubectl apply -l` steps docs/DEPLOY.md and the
// file's header give (kubectl filters a file's objects with labels.Parse)
// apply every object once, the shop's before the run's, and never the
// placeholder Secret.
func checkApplySelector(t *testing.T, m manifests) {
	t.Helper()
	shopStep, err := labels.Parse(kube.SelectorShop)
	if err != nil {
		t.Fatal(err)
	}
	runStep, err := labels.Parse(kube.SelectorRun)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range m.all {
		set := labels.Set(o.(interface{ GetLabels() map[string]string }).GetLabels())
		inShop, inRun := shopStep.Matches(set), runStep.Matches(set)
		var want [2]bool
		switch o.(type) {
		case *corev1.Secret:
		case *corev1.ConfigMap, *appsv1.Deployment:
			want[0] = true
		case *batchv1.Job:
			want[1] = true
		case *corev1.Service:
			want[0] = set[kube.LabelComponent] == kube.ComponentShop
			want[1] = !want[0]
		}
		if [2]bool{inShop, inRun} != want {
			t.Errorf("%T %v: applied by the shop step %v, by the run step %v; want %v", o, set, inShop, inRun, want)
		}
	}
}

// TestMasterArgs: variables `lab plan` was given and a chosen shape reach
// the master; defaults stay in the plan file; host always points at the
// shop's Service.
func TestMasterArgs(t *testing.T) {
	env := map[string]string{"LAB_VAR_duration": "40s"}
	plan := load(t, distPlan, lang.Options{Vars: []string{"users=7", "workers=1", "host=http://elsewhere:1"}, Shape: "burst",
		Env: func(k string) string { return env[k] }}, 3)
	args := decode(t, plan).master.Spec.Template.Spec.Containers[0].Args
	var vars []string
	for i := range args {
		if args[i] == "-var" && i+1 < len(args) {
			vars = append(vars, args[i+1])
		}
	}
	want := []string{"duration=40s", "users=7", "host=http://lab-dist-shop:8080"}
	if !slices.Equal(vars, want) {
		t.Errorf("the master's variables are %q, want %q", vars, want)
	}
	if got := argAfter(args, "--shape", ""); got != "burst" {
		t.Errorf("--shape %q, want burst", got)
	}
	// The plan's own choice (run.shape) needs no flag.
	args = decode(t, load(t, distPlan, lang.Options{}, 0)).master.Spec.Template.Spec.Containers[0].Args
	if slices.Contains(args, "--shape") || strings.Contains(strings.Join(args, " "), "users=") {
		t.Errorf("a plan with its defaults runs with %q", args)
	}
}

// TestShopKnobs: the shop's knobs are its LAB_SUT_* variables, all of
// them but listen, which the command line sets to every address of the pod.
func TestShopKnobs(t *testing.T) {
	m := decode(t, load(t, distPlan, lang.Options{}, 0))
	c := m.shop.Spec.Template.Spec.Containers[0]
	got := map[string]string{}
	for _, e := range c.Env {
		got[e.Name] = e.Value
	}
	want := map[string]string{"LAB_SUT_LATENCY": "5ms", "LAB_SUT_ERROR_RATE": "0.01", "LAB_SUT_ROUTE_LATENCY": "POST /checkout=50ms"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("shop env %v, want %v", got, want)
	}
	if !slices.Equal(c.Args, []string{"sut", "--listen", "0.0.0.0:8080"}) {
		t.Errorf("shop runs %q", c.Args)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("the shop is not ready on GET /healthz: %+v", c.ReadinessProbe)
	}
}

// TestShopNeedsHostVariable: a shop the workload cannot be pointed at is
// refused with the sut block's file:line.
func TestShopNeedsHostVariable(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "w.workload.hcl"), "user \"u\" {\n  wait = constant(\"1s\")\n  task \"t\" {\n    get = \"/\"\n  }\n}\n")
	write(t, filepath.Join(dir, "p.hcl"), `sut "shop" {
  latency = "1ms"
}

workload "w" {
  source = "w.workload.hcl"
  host   = "http://127.0.0.1:8080"
}

shape "s" {
  duration = "5s"
  stage {
    until = "5s"
    users = 1
  }
}
`)
	plan := load(t, filepath.Join(dir, "p.hcl"), lang.Options{}, 0)
	_, err := kube.YAML(plan)
	if err == nil || !strings.Contains(err.Error(), "p.hcl:1:") || !strings.Contains(err.Error(), `variable "host"`) {
		t.Errorf("got %v, want the sut block's file:line and the missing variable host", err)
	}
}

// TestConfigMapLimits: files that cannot share a ConfigMap, or do not fit
// one, are refused by name.
func TestConfigMapLimits(t *testing.T) {
	plan := load(t, distPlan, lang.Options{}, 0)
	plan.Sources[filepath.Join(filepath.Dir(distPlan), "a_b.hcl")] = []byte("x = 1\n")
	plan.Sources[filepath.Join(filepath.Dir(distPlan), "a", "b.hcl")] = []byte("x = 2\n")
	if _, err := kube.YAML(plan); err == nil || !strings.Contains(err.Error(), "a_b.hcl") {
		t.Errorf("two files with one key: %v", err)
	}
	plan = load(t, distPlan, lang.Options{}, 0)
	plan.Sources[filepath.Join(filepath.Dir(distPlan), "big.hcl")] = make([]byte, 2<<20)
	if _, err := kube.YAML(plan); err == nil || !strings.Contains(err.Error(), "ConfigMap holds at most") {
		t.Errorf("2 MiB of files: %v", err)
	}
}

func TestNamesFor(t *testing.T) {
	for plan, want := range map[string]string{
		"smoke":                    "smoke",
		"leak-test":                "leak-test",
		"Leak_Test":                "leak-test",
		"2 plans!":                 "2-plans",
		"--x--":                    "x",
		strings.Repeat("long", 20): strings.Repeat("long", 10),
	} {
		n, err := kube.NamesFor(plan)
		if err != nil || n.Instance != want || n.Workers != "lab-"+want+"-workers" {
			t.Errorf("NamesFor(%q) = %+v, %v; want instance %q", plan, n, err, want)
		}
	}
	if _, err := kube.NamesFor("___"); err == nil {
		t.Error("a plan name without a letter or digit was accepted")
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
