package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"lab/cli/clitest"
	"lab/deploy/kube"
	"lab/lang"
	"lab/runtime/needs"
	"lab/runtime/result"
)

// TestK8sPodsRunInDocker runs plans' pods as k8s.yaml says, in Docker
// since no cluster runs here: the image built FROM scratch around the
// static binary, each pod's arguments, variables, user, read-only root
// filesystem, dropped capabilities, working folder and resource limits,
// the ConfigMap's files laid out as its volume items say, and each
// Service a network alias. It shows that the plan loads from the mounted
// files, the shop takes its LAB_SUT_* knobs, the workload reaches the
// shop by its Service's name, the leak-test plan's memory is read from
// the shop's /metrics through that name, the master writes its run
// under the pod's restrictions, and the two workers' pods join it.
func TestK8sPodsRunInDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and runs containers")
	}
	needs.Tool(t, "docker", "Docker Engine, Debian package docker.io")
	d := newDockerPods(t)
	t.Run("smoke", func(t *testing.T) {
		run := d.runPlan(t, "plans/smoke.hcl", "0", "duration=3s", "users=4")
		var total int64
		for _, q := range run.Requests {
			total += q.Count
		}
		if host := run.Plan.Vars["host"]; host != `"http://lab-smoke-shop:8080"` || total == 0 {
			t.Errorf("the run went to %q with %d requests", host, total)
		}
	})
	t.Run("leak-test", func(t *testing.T) {
		// Too short for the leak hunter to judge (exit 1; 3 when a busy
		// machine makes the generator late, which voids the figures but
		// not the memory read), long enough to sample the shop's memory
		// through its Service.
		run := d.runPlan(t, "plans/leak-test.hcl", "1 3", "duration=4s", "rate=20/s")
		if run.Memory == nil || len(run.Memory.Samples) < 2 {
			t.Fatalf("no memory samples of the shop: %+v", run.Memory)
		}
		if !strings.Contains(run.Memory.Source, "lab-leak-test-shop:8080") {
			t.Errorf("memory read from %q, not the shop's Service", run.Memory.Source)
		}
	})
}

// runPlan plans file with vars as lab plan would, runs its shop, master
// and two workers, and returns the Run the master wrote. The
// master must exit with one of codes (space-separated).
func (d *dockerPods) runPlan(t *testing.T, file, codes string, vars ...string) *result.Run {
	t.Helper()
	plan, diags := lang.Load(file, lang.Options{Vars: vars})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	plan.Topology.Workers = 2
	pods := clitest.K8sPods(t, plan)
	shop := d.run(t, pods.Shop.Name, pods.Shop.Spec.Template.Spec, nil, "--detach", "--publish", "127.0.0.1::8080")
	d.waitReady(t, shop)

	results := t.TempDir()
	os.Chmod(results, 0o777) // an emptyDir is writable by any user
	spec := pods.Master.Spec.Template.Spec
	mounts := map[string]string{kube.PlansDir: d.configMapDir(t, pods.Plans, spec), kube.ResultsDir: results}
	master := d.run(t, pods.Master.Name, spec, mounts, "--detach")
	w := pods.Workers
	for i := range *w.Spec.Completions {
		d.run(t, fmt.Sprintf("%s-%d", w.Name, i), w.Spec.Template.Spec, nil, "--detach",
			"--env", fmt.Sprintf("LAB_WORKER_INDEX=%d", i)) // the downward API's completion index
	}
	if got := d.wait(t, master); !slices.Contains(strings.Fields(codes), got) {
		t.Fatalf("the master exited %s, want %s:\n%s", got, codes, d.logs(master))
	}
	run, err := result.Load(filepath.Join(results, plan.Name, "latest"))
	if err != nil {
		t.Fatalf("%v\n%s", err, d.logs(master))
	}
	if run.Workers != 2 {
		t.Fatalf("the run had %d workers, want the 2 worker pods\n%s", run.Workers, d.logs(master))
	}
	return run
}

// dockerPods runs pod specs as containers on a network of their own, and
// removes what it made when the test ends.
type dockerPods struct {
	id, image, network string
}

func newDockerPods(t *testing.T) *dockerPods {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	d := &dockerPods{id: "lab-k8stest-" + hex.EncodeToString(b)}
	d.image, d.network = d.id+":latest", d.id
	ctxDir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ctxDir, "lab"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM scratch\nCOPY lab /lab\nENTRYPOINT [\"/lab\"]\n"), 0o644)
	t.Cleanup(func() { dockerRun(t, "image", "rm", "-f", d.image) })
	dockerRun(t, "build", "--quiet", "--tag", d.image, ctxDir)
	t.Cleanup(func() { dockerRun(t, "network", "rm", d.network) })
	dockerRun(t, "network", "create", "--label", "lab-test="+d.id, d.network)
	return d
}

// run starts a container as the pod spec says, reachable on the network
// by alias (its Service's name, for the shop and the master), with host
// folders mounted at the volume mounts' paths. It returns the container's
// name.
func (d *dockerPods) run(t *testing.T, alias string, spec corev1.PodSpec, mounts map[string]string, extra ...string) string {
	t.Helper()
	c := spec.Containers[0]
	name := d.id + "-" + alias
	args := []string{"run", "--name", name, "--network", d.network, "--network-alias", alias,
		"--label", "lab-test=" + d.id, "--env", kube.TokenEnv + "=" + d.id}
	args = append(args, podSecurity(t, spec)...)
	if lim := c.Resources.Limits; lim != nil {
		args = append(args, "--memory", fmt.Sprint(lim.Memory().Value()), "--cpus", lim.Cpu().AsDec().String())
	}
	if c.WorkingDir != "" {
		args = append(args, "--workdir", c.WorkingDir)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
			args = append(args, "--env", e.Name+"="+e.Value)
		}
	}
	for _, m := range c.VolumeMounts {
		host, ok := mounts[m.MountPath]
		if !ok {
			t.Fatalf("%s: nothing to mount at %s", c.Name, m.MountPath)
		}
		v := host + ":" + m.MountPath
		if m.ReadOnly {
			v += ":ro"
		}
		args = append(args, "--volume", v)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i] == "--env" {
			k, v, _ := strings.Cut(extra[i+1], "=")
			env[k] = v
		}
	}
	args = append(args, extra...)
	args = append(args, d.image)
	t.Cleanup(func() { dockerRun(t, "rm", "-f", name) })
	dockerRun(t, append(args, clitest.ExpandVars(c.Args, env)...)...)
	return name
}

// podSecurity is the pod's and its container's security context as
// docker run flags; a field the test cannot reproduce fails it.
func podSecurity(t *testing.T, spec corev1.PodSpec) []string {
	t.Helper()
	var args []string
	psc, sc := spec.SecurityContext, spec.Containers[0].SecurityContext
	if psc != nil && psc.RunAsUser != nil {
		group := *psc.RunAsUser
		if psc.RunAsGroup != nil {
			group = *psc.RunAsGroup
		}
		args = append(args, "--user", fmt.Sprintf("%d:%d", *psc.RunAsUser, group))
	}
	if sc != nil {
		if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
			args = append(args, "--read-only")
		}
		if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			args = append(args, "--security-opt", "no-new-privileges")
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Drop {
				args = append(args, "--cap-drop", string(c))
			}
		}
	}
	return args
}

// configMapDir lays out the ConfigMap's keys as the pod's volume items
// say, in a folder to mount where the volume is mounted.
func (d *dockerPods) configMapDir(t *testing.T, cm *corev1.ConfigMap, spec corev1.PodSpec) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	for _, v := range spec.Volumes {
		if v.ConfigMap == nil || v.ConfigMap.Name != cm.Name {
			continue
		}
		for _, it := range v.ConfigMap.Items {
			p := filepath.Join(dir, filepath.FromSlash(it.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(cm.Data[it.Key]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	t.Fatalf("the pod mounts no volume of ConfigMap %s", cm.Name)
	return ""
}

// waitReady polls the shop's readiness path through its published port,
// as the kubelet's probe would, for at most 15 seconds.
func (d *dockerPods) waitReady(t *testing.T, name string) {
	t.Helper()
	addr := strings.TrimSpace(strings.Split(dockerRun(t, "port", name, "8080/tcp"), "\n")[0])
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the shop was not ready in 15 s:\n%s", d.logs(name))
}

// wait waits at most 2 minutes for a container to exit and returns its code.
func (d *dockerPods) wait(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "wait", name).Output()
	if err != nil {
		t.Fatalf("docker wait %s: %v\n%s", name, err, d.logs(name))
	}
	return strings.TrimSpace(string(out))
}

func (d *dockerPods) logs(name string) string {
	out, _ := exec.Command("docker", "logs", name).CombinedOutput()
	return string(out)
}

func dockerRun(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out)
}
