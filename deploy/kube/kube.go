// Package kube writes the Kubernetes manifests of a plan's distributed run,
// generated/<plan>/k8s.yaml: the plan's files in a ConfigMap, the token in a
// Secret, the bundled shop as a Deployment and a Service, the master as a
// Job with a Service, and the workers as an Indexed Job sized by the plan.
//
// The objects are the k8s.io/api types, written by apimachinery's YAML
// serializer: what kubectl reads back is what those types hold, which is
// also how the tests check the wiring (no cluster runs here).
package kube

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"lab/lang"
)

// What every role runs and where: the contract of issue 10 (docs/DESIGN.md).
const (
	Image      = "lab:latest"
	MasterPort = 5557
	ShopPort   = 8080
	// MetricsPort is where the master serves /metrics (lab apply
	// --metrics), on its Service too.
	MetricsPort = 9646
	PlansDir    = "/plans"   // the ConfigMap's mount in the master
	ResultsDir  = "/results" // the master's runs (an emptyDir: see docs/DEPLOY.md)
	TokenKey    = "token"    // the Secret's key that LAB_TOKEN is read from
	TokenEnv    = "LAB_TOKEN"
	// TokenPlaceholder stands in the Secret so that no real token is ever
	// committed; docs/DEPLOY.md says how to create the real one. It is empty on
	// purpose: a master listening beyond loopback refuses to start without
	// a token, so a placeholder applied by mistake stops the run rather
	// than guarding it with a token anyone can read in the repository.
	TokenPlaceholder = ""
	// WorkerWait is how long a worker keeps trying to reach the master: as
	// long as the master waits for the workers to join (its --join-timeout
	// default), since the cluster starts the pods in no particular order.
	WorkerWait = "2m"
)

// The labels every object carries; the selectors use the first three.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
	LabelManagedBy = "app.kubernetes.io/managed-by"
)

// The components, as LabelComponent spells them.
const (
	ComponentToken  = "token"
	ComponentPlans  = "plans"
	ComponentShop   = "shop"
	ComponentMaster = "master"
	ComponentWorker = "worker"
)

// maxInstance bounds the plan's part of the names: the workers' Job name
// (lab-<plan>-workers) and its pods' host names (<job>-<index>) must stay
// DNS labels of at most 63 characters.
const maxInstance = 40

// Names are the objects' names for one plan, all DNS labels.
type Names struct {
	Instance string // the plan's name as a DNS label: "smoke"
	Token    string // Secret
	Plans    string // ConfigMap
	Shop     string // Deployment and Service
	Master   string // Job and Service
	Workers  string // Indexed Job
}

// NamesFor returns the names of plan's objects. A plan name with
// characters a DNS label cannot hold has them replaced by '-'.
func NamesFor(plan string) (Names, error) {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(plan) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if ok {
			b.WriteRune(r)
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = !ok
	}
	inst := strings.TrimRight(b.String(), "-")
	if len(inst) > maxInstance {
		inst = strings.TrimRight(inst[:maxInstance], "-")
	}
	if inst == "" {
		return Names{}, fmt.Errorf("plan name %q has no letter or digit to name Kubernetes objects after", plan)
	}
	base := "lab-" + inst
	n := Names{Instance: inst, Token: base + "-token", Plans: base + "-plans",
		Shop: base + "-shop", Master: base + "-master", Workers: base + "-workers"}
	for _, name := range []string{n.Token, n.Plans, n.Shop, n.Master, n.Workers} {
		if errs := validation.IsDNS1035Label(name); len(errs) > 0 {
			return Names{}, fmt.Errorf("object name %q: %s", name, strings.Join(errs, "; "))
		}
	}
	return n, nil
}

// Labels are the labels of component's objects and pods.
func (n Names) Labels(component string) map[string]string {
	l := n.Selector(component)
	l[LabelManagedBy] = "lab"
	return l
}

// Selector is what selects component's pods.
func (n Names) Selector(component string) map[string]string {
	return map[string]string{LabelName: "lab", LabelInstance: n.Instance, LabelComponent: component}
}

// Objects returns the plan's objects in the order kubectl should apply
// them: the Secret and the ConfigMap the pods mount, the shop they load,
// the master's Service and Job, then the workers.
func Objects(plan *lang.Plan) ([]runtime.Object, error) {
	n, err := NamesFor(plan.Name)
	if err != nil {
		return nil, err
	}
	plans, err := plansConfigMap(plan, n)
	if err != nil {
		return nil, err
	}
	objs := []runtime.Object{tokenSecret(plan, n), plans.cm}
	if plan.SUT != nil {
		objs = append(objs, shopDeployment(plan.SUT, n), service(n, n.Shop, ComponentShop, shopPort))
	}
	master, err := masterJob(plan, n, plans)
	if err != nil {
		return nil, err
	}
	objs = append(objs, service(n, n.Master, ComponentMaster, masterPort, metricsPort), master, workersJob(plan, n))
	return objs, nil
}

// Scheme knows the types Objects returns, for encoding them and for tests
// that decode them.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err) // the API packages' own registrations: cannot fail
		}
	}
	return s
}

// YAML returns generated/<plan>/k8s.yaml: a comment that says how to apply
// it, then one YAML document per object.
func YAML(plan *lang.Plan) ([]byte, error) {
	objs, err := Objects(plan)
	if err != nil {
		return nil, err
	}
	n, _ := NamesFor(plan.Name) // Objects checked it
	scheme := Scheme()
	yamlSer := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true})
	codec := serializer.NewCodecFactory(scheme).EncoderForVersion(yamlSer, schema.GroupVersions{
		corev1.SchemeGroupVersion, appsv1.SchemeGroupVersion, batchv1.SchemeGroupVersion})
	var b bytes.Buffer
	b.WriteString(header(plan, n))
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		if err := codec.Encode(o, &b); err != nil {
			return nil, fmt.Errorf("encoding %T: %w", o, err)
		}
	}
	return b.Bytes(), nil
}

// The two steps of `kubectl apply -l` that docs/DEPLOY.md and the file's header
// give: the shop (and the plan's files) first, then, once the shop is
// ready, the run. Neither applies the placeholder Secret, which would
// write over the real token created beforehand.
const (
	SelectorShop = LabelComponent + " in (" + ComponentPlans + "," + ComponentShop + ")"
	SelectorRun  = LabelComponent + " in (" + ComponentMaster + "," + ComponentWorker + ")"
)

// header says how to apply the file: the steps docs/DEPLOY.md, "Kubernetes",
// explains.
func header(plan *lang.Plan, n Names) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Kubernetes manifests for plan %s (%s), written by lab plan: do not edit.
# docs/DEPLOY.md, "Kubernetes", says how to load the image and apply them. Create
# the token first (the Secret below is an empty placeholder, never applied),
# then apply in two steps: the plan's files and the shop, and, once the shop
# is ready, the run:
#   kubectl create secret generic %s --from-literal=%s="$(head -c 32 /dev/urandom | base64)"
#   kubectl apply -f k8s.yaml -l '%s'
`, plan.Name, plan.File, n.Token, TokenKey, SelectorShop)
	if plan.SUT != nil {
		fmt.Fprintf(&b, "#   kubectl rollout status deployment/%s\n", n.Shop)
	}
	fmt.Fprintf(&b, "#   kubectl apply -f k8s.yaml -l '%s'\n#   kubectl logs -f job/%s\n", SelectorRun, n.Master)
	return b.String()
}

// Decode reads manifests back into the API types, one object per YAML
// document, as kubectl would: strictly, so an unknown or duplicated field
// is an error rather than something the cluster silently drops.
func Decode(data []byte) ([]runtime.Object, error) {
	dec := serializer.NewCodecFactory(Scheme(), serializer.EnableStrict).UniversalDeserializer()
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []runtime.Object
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(objs)+1, err)
		}
		objs = append(objs, obj)
	}
}
