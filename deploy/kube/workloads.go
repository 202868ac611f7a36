package kube

import (
	"fmt"
	"strconv"

	"github.com/zclconf/go-cty/cty"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"lab/lang"
	"lab/lang/shopknobs"
)

// Resources of each role.
//
// A worker is a load generator: throttled or evicted mid-run it measures
// itself rather than the target, so it asks for a whole CPU and gets
// exactly that (requests = limits: the Guaranteed class, evicted last and,
// under the static CPU manager, given a core of its own). 512Mi is four
// times what 2000 users of the shipped workload took (129 MB peak RSS at
// about 1000 requests/s, using a fifth of a CPU, measured on this repo's
// machine with lab apply --no-sut).
//
// The master merges one report a second per worker and sends no load: a
// quarter of a CPU, up to one when merging bursts. The shop is what is
// measured: it may use two CPUs, and 2Gi because the leak-test plan keeps
// about 750 MB on purpose (50 KB per checkout for ten minutes).
var (
	workerResources = resources("1", "512Mi", "1", "512Mi")
	masterResources = resources("250m", "256Mi", "1", "512Mi")
	shopResources   = resources("500m", "256Mi", "2", "2Gi")
)

func resources(cpu, mem, cpuMax, memMax string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuMax), corev1.ResourceMemory: resource.MustParse(memMax)},
	}
}

// nonRoot is the user the static binary runs as: the image (FROM scratch)
// has no /etc/passwd, so the pods name a number (the distroless "nonroot").
const nonRoot = 65532

// podSpec is what every pod shares: the one container, the restricted Pod
// Security Standard (so a namespace that enforces it admits the pods), no
// API token (lab never calls the API) and no service links (their
// <SERVICE>_PORT variables could collide with LAB_VAR_* and LAB_SUT_*).
func podSpec(c corev1.Container, restart corev1.RestartPolicy) corev1.PodSpec {
	c.Image = Image
	c.ImagePullPolicy = corev1.PullIfNotPresent
	c.SecurityContext = &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		ReadOnlyRootFilesystem:   ptr(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	return corev1.PodSpec{
		Containers:                   []corev1.Container{c},
		RestartPolicy:                restart,
		AutomountServiceAccountToken: ptr(false),
		EnableServiceLinks:           ptr(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr(true),
			RunAsUser:      ptr[int64](nonRoot),
			RunAsGroup:     ptr[int64](nonRoot),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

// shopDeployment runs the bundled shop with the plan's knobs, each as the
// LAB_SUT_* variable `lab sut` reads; listen is the command line's, since
// in the cluster the shop listens on every address of its pod.
func shopDeployment(s *lang.SUT, n Names) *appsv1.Deployment {
	var env []corev1.EnvVar
	for _, k := range s.Knobs {
		spec, ok := shopknobs.Lookup(k.Name)
		if !ok || k.Name == "listen" {
			continue
		}
		env = append(env, corev1.EnvVar{Name: spec.Env, Value: k.Text})
	}
	c := corev1.Container{
		Name:      ComponentShop,
		Args:      []string{"sut", "--listen", fmt.Sprintf("0.0.0.0:%d", ShopPort)},
		Env:       env,
		Ports:     []corev1.ContainerPort{shopPort},
		Resources: shopResources,
		// Ready once it answers: the Service sends nothing before, so a
		// run that starts as the shop starts finds it listening.
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
			PeriodSeconds: 2,
		},
	}
	return &appsv1.Deployment{
		ObjectMeta: meta(n.Shop, n, ComponentShop),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: n.Selector(ComponentShop)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: n.Labels(ComponentShop)},
				Spec:       podSpec(c, corev1.RestartPolicyAlways),
			},
		},
	}
}

// service selects component's pods and serves port under its name.
func service(n Names, name, component string, ports ...corev1.ContainerPort) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: meta(name, n, component),
		Spec:       corev1.ServiceSpec{Selector: n.Selector(component)},
	}
	for _, p := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: p.Name, Port: p.ContainerPort, Protocol: corev1.ProtocolTCP,
			TargetPort: intstr.FromString(p.Name)})
	}
	return svc
}

// The ports of the shop and the master, as their containers name them and
// their Services lead to them.
var (
	shopPort    = corev1.ContainerPort{Name: "http", ContainerPort: ShopPort, Protocol: corev1.ProtocolTCP}
	masterPort  = corev1.ContainerPort{Name: "master", ContainerPort: MasterPort, Protocol: corev1.ProtocolTCP}
	metricsPort = corev1.ContainerPort{Name: "metrics", ContainerPort: MetricsPort, Protocol: corev1.ProtocolTCP}
)

// scrapeAnnotations tell a Prometheus that discovers pods by the common
// prometheus.io annotations where the master serves /metrics (the scrape
// sends LAB_TOKEN as a bearer token: docs/DEPLOY.md, "Kubernetes").
func scrapeAnnotations() map[string]string {
	return map[string]string{
		"prometheus.io/scrape": "true",
		"prometheus.io/port":   strconv.Itoa(MetricsPort),
		"prometheus.io/path":   "/metrics",
	}
}

// tokenEnv reads LAB_TOKEN from the Secret, for the master and workers.
func tokenEnv(n Names) corev1.EnvVar {
	return corev1.EnvVar{Name: TokenEnv, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: n.Token}, Key: TokenKey}}}
}

// tokenSecret holds the join token and the plan's sensitive variables
// (LAB_VAR_<name>), each a placeholder to be set before applying: their
// values never go into the generated manifests.
func tokenSecret(plan *lang.Plan, n Names) *corev1.Secret {
	data := map[string]string{TokenKey: TokenPlaceholder}
	for _, v := range plan.Vars {
		if v.Sensitive {
			data[sensitiveKey(v)] = fmt.Sprintf("set %s here (a sensitive variable of the plan)", v.Name)
		}
	}
	return &corev1.Secret{
		ObjectMeta: meta(n.Token, n, ComponentToken),
		Type:       corev1.SecretTypeOpaque,
		StringData: data,
	}
}

func sensitiveKey(v *lang.Variable) string { return "LAB_VAR_" + v.Name }

// sensitiveEnv reads the plan's sensitive variables from the Secret.
func sensitiveEnv(plan *lang.Plan, n Names) []corev1.EnvVar {
	var env []corev1.EnvVar
	for _, v := range plan.Vars {
		if v.Sensitive {
			env = append(env, corev1.EnvVar{Name: sensitiveKey(v), ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: n.Token}, Key: sensitiveKey(v)}}})
		}
	}
	return env
}

// masterJob runs `lab apply` as the master: it loads the plan from the
// ConfigMap, waits for the workers, judges the merged run and exits with
// the verdict's code. It runs once (no retry): a breach or a bad plan is
// the answer, and a second run would load the shop again unasked.
func masterJob(plan *lang.Plan, n Names, plans plansVolume) (*batchv1.Job, error) {
	args, err := masterArgs(plan, n, plans.planPath)
	if err != nil {
		return nil, err
	}
	c := corev1.Container{
		Name: ComponentMaster,
		Args: args,
		// A regression block's relative baseline ("results/<plan>/baseline")
		// is read from here: in the results volume, beside the runs.
		WorkingDir: "/",
		Env:        append([]corev1.EnvVar{tokenEnv(n)}, sensitiveEnv(plan, n)...),
		Ports:      []corev1.ContainerPort{masterPort, metricsPort},
		Resources:  masterResources,
		VolumeMounts: []corev1.VolumeMount{
			{Name: "plans", MountPath: PlansDir, ReadOnly: true},
			{Name: "results", MountPath: ResultsDir},
		},
	}
	spec := podSpec(c, corev1.RestartPolicyNever)
	spec.Volumes = []corev1.Volume{
		{Name: "plans", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: plans.cm.Name}, Items: plans.items}}},
		{Name: "results", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	return &batchv1.Job{
		ObjectMeta: meta(n.Master, n, ComponentMaster),
		Spec: batchv1.JobSpec{
			Completions:  ptr[int32](1),
			Parallelism:  ptr[int32](1),
			BackoffLimit: ptr[int32](0),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: n.Labels(ComponentMaster), Annotations: scrapeAnnotations()},
				Spec:       spec,
			},
		},
	}, nil
}

// workersJob runs the plan's workers as an Indexed Job: one pod per
// worker, all at once, each named by its index. A worker that fails is not
// replaced (backoffLimitPerIndex 0), nor does it stop the others: the
// master decides what a lost worker means (the plan's on_worker_loss).
func workersJob(plan *lang.Plan, n Names) *batchv1.Job {
	workers := int32(max(plan.Topology.Workers, 1))
	c := corev1.Container{
		Name: ComponentWorker,
		Args: []string{"worker", "--master", fmt.Sprintf("%s:%d", n.Master, MasterPort),
			"--name", "worker-$(LAB_WORKER_INDEX)", "--wait", WorkerWait},
		Env: []corev1.EnvVar{
			tokenEnv(n),
			{Name: "LAB_WORKER_INDEX", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
				FieldPath: "metadata.annotations['" + batchv1.JobCompletionIndexAnnotation + "']"}}},
		},
		Resources: workerResources,
	}
	spec := podSpec(c, corev1.RestartPolicyNever)
	// Spread over the nodes where there are several: the load of one
	// machine is what a distributed run outgrows. Soft, so that a
	// one-node cluster still runs them all.
	spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew: 1, TopologyKey: corev1.LabelHostname, WhenUnsatisfiable: corev1.ScheduleAnyway,
		LabelSelector: &metav1.LabelSelector{MatchLabels: n.Selector(ComponentWorker)},
	}}
	indexed := batchv1.IndexedCompletion
	return &batchv1.Job{
		ObjectMeta: meta(n.Workers, n, ComponentWorker),
		Spec: batchv1.JobSpec{
			CompletionMode:       &indexed,
			Completions:          ptr(workers),
			Parallelism:          ptr(workers),
			BackoffLimitPerIndex: ptr[int32](0),
			Template:             corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: n.Labels(ComponentWorker)}, Spec: spec},
		},
	}
}

// masterArgs is the master's command line. The plan's variables are the
// defaults in the plan file but for those `lab plan` was given (-var,
// -var-file, LAB_VAR_*), which are passed on; host points the workload at
// the shop's Service, and --workers sizes the run as the workers' Job.
func masterArgs(plan *lang.Plan, n Names, planPath string) ([]string, error) {
	args := []string{"apply", planPath, "--remote-workers", "--listen", fmt.Sprintf("0.0.0.0:%d", MasterPort),
		"--no-sut", "--workers", strconv.Itoa(max(plan.Topology.Workers, 1)), "--results", ResultsDir,
		"--metrics", fmt.Sprintf("0.0.0.0:%d", MetricsPort)}
	if plan.ShapeFrom == "--shape" || plan.ShapeFrom == "LAB_SHAPE" {
		args = append(args, "--shape", plan.Shape.Name)
	}
	if plan.ReadsOutside {
		args = append(args, "--allow-outside-files")
	}
	hasHost := false
	for _, v := range plan.Vars {
		switch {
		case v.Name == "host" && plan.SUT != nil:
			hasHost = true
		case v.Name == "workers" || v.Source == "default" || v.Sensitive: // sensitive: from the Secret (sensitiveEnv)
		default:
			args = append(args, "-var", v.Name+"="+varText(v))
		}
	}
	if plan.SUT != nil {
		if !hasHost {
			return nil, fmt.Errorf(`%s:%d: the plan starts a shop but declares no variable "host": in Kubernetes the shop is a Service of its own, and the workload reaches it only through var.host`,
				plan.SUT.Range.Filename, plan.SUT.Range.Start.Line)
		}
		args = append(args, "-var", fmt.Sprintf("host=http://%s:%d", n.Shop, ShopPort))
	}
	return args, nil
}

// varText is a variable's value as -var takes it: a string as it is,
// anything else in the plan language's syntax.
func varText(v *lang.Variable) string {
	if v.Value.Type() == cty.String && !v.Value.IsNull() {
		return v.Value.AsString()
	}
	return lang.ValueText(v.Value)
}

func ptr[T any](v T) *T { return &v }
