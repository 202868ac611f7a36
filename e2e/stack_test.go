package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/gates/exitcode"
	"lab/runtime/needs"
	"lab/runtime/result"
)

// The Docker tests of issue 10: the image, the shop's memory read through
// the engine, and the plan as a Compose stack and a Swarm stack (make up,
// make up-swarm), each cleaned up after itself.

// docker returns the docker client, skipping (failing in CI) without a
// reachable engine.
func docker(t *testing.T) string {
	t.Helper()
	bin := needs.Tool(t, "docker", "the Docker engine, Debian package docker.io")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		needs.Missing(t, "the Docker engine is not available: %v %s", err, out)
	}
	return bin
}

var (
	imageOnce sync.Once
	imageErr  error
	imageOut  []byte
)

// buildImage builds lab:latest from this tree (make image), once per test
// binary.
func buildImage(t *testing.T) {
	t.Helper()
	docker(t)
	imageOnce.Do(func() {
		imageOut, imageErr = exec.Command("make", "image").CombinedOutput()
	})
	if imageErr != nil {
		t.Fatalf("make image: %v\n%s", imageErr, imageOut)
	}
}

// TestImageBuilds builds the image with no registry and runs the binary
// in it on a plan baked into /plans.
func TestImageBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the image (-short)")
	}
	buildImage(t)
	out, err := exec.Command("docker", "run", "--rm", "lab:latest", "plan", "/plans/smoke.hcl", "--out", "/tmp").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "plan smoke (/plans/smoke.hcl)") {
		t.Errorf("lab plan in the image: %v\n%s", err, out)
	}
}

// startShopContainer runs the bundled shop in a container of the image
// and returns its name and base URL (its address on the bridge network).
func startShopContainer(t *testing.T, env ...string) (name, base string) {
	t.Helper()
	name = fmt.Sprintf("lab-test-shop-%d", os.Getpid())
	args := []string{"run", "-d", "--name", name}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, "lab:latest", "sut", "--listen", "0.0.0.0:8080")
	if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	ip, err := exec.Command("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name).Output()
	if err != nil || len(bytes.TrimSpace(ip)) == 0 {
		t.Fatalf("the shop container's address: %v %q", err, ip)
	}
	base = "http://" + string(bytes.TrimSpace(ip)) + ":8080"
	// The container runs before the shop listens.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return name, base
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shop container never answered: %v", err)
		}
	}
}

// With --sut-container, a leak block's memory = sut.shop is read from the
// shop's container through the engine, and no shop is started here.
func TestSUTContainerIsSampledThroughTheEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a container (-short)")
	}
	buildImage(t)
	name, base := startShopContainer(t)
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "leak.hcl", clitest.TwoRoutes, base,
		"sut \"shop\" {\n  listen = \"127.0.0.1:1\"\n}\n"+clitest.OpenShape("3s", "20/s")+"leak {\n  memory = sut.shop\n}\n")
	results := filepath.Join(dir, "results")
	code, _, stderr := lab(t, nil, "apply", plan, "--sut-container", name, "--results", results, "--quiet")
	if code == exitcode.BadInput || code == exitcode.CouldNotRun {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "started (pid") {
		t.Errorf("--sut-container started a shop here:\n%s", stderr)
	}
	_, run := clitest.LatestRun(t, results)
	if run.Memory == nil || len(run.Memory.Samples) == 0 || !strings.Contains(run.Memory.Source, name) {
		t.Errorf("memory %+v: want samples of container %s", run.Memory, name)
	}
}

// An unknown container stops the run before any load, naming it.
func TestSUTContainerMissing(t *testing.T) {
	docker(t)
	name := fmt.Sprintf("lab-absent-%d", os.Getpid())
	dir := t.TempDir()
	plan := clitest.WritePlan(t, dir, "leak.hcl", clitest.TwoRoutes, "http://127.0.0.1:1",
		"sut \"shop\" {\n  listen = \"127.0.0.1:1\"\n}\n"+clitest.OpenShape("3s", "20/s")+"leak {\n  memory = sut.shop\n}\n")
	code, _, stderr := lab(t, nil, "apply", plan, "--sut-container", name, "--results", filepath.Join(dir, "results"), "--quiet")
	if code != exitcode.CouldNotRun || !strings.Contains(stderr, "No such container: "+name) || !strings.Contains(stderr, "Nothing was sent") {
		t.Errorf("exit %d, want 3 naming the container:\n%s", code, stderr)
	}
}

// stack is a plan's stack under a project name of this test, with a
// results folder of its own.
type stack struct {
	t       *testing.T
	plan    string
	project string
	results string
}

func newStack(t *testing.T, plan string) *stack {
	return &stack{t: t, plan: plan, project: fmt.Sprintf("lab-test-%s-%d", plan, os.Getpid()), results: t.TempDir()}
}

// run runs argv (make or deploy/stack.sh) for the stack and returns its
// exit code and output.
func (s *stack) run(ctx context.Context, argv []string, env ...string) (int, string) {
	s.t.Helper()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "PLAN="+s.plan, "LAB_PROJECT="+s.project, "LAB_RESULTS="+s.results)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	return code, string(out)
}

// left lists what of the project is still there: containers, networks and
// volumes carrying its label.
func (s *stack) left(label string) string {
	var left []string
	for _, kind := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}, {"volume", "ls", "-q"}} {
		args := append(kind, "--filter", "label="+label+"="+s.project)
		out, _ := exec.Command("docker", args...).Output()
		if o := strings.TrimSpace(string(out)); o != "" {
			left = append(left, strings.Join(kind, " ")+": "+strings.ReplaceAll(o, "\n", " "))
		}
	}
	return strings.Join(left, "; ")
}

// TestMakeUp is issue 10's acceptance for Compose: make up runs the smoke
// plan with 4 worker containers and exits 0 with the Run on the host; a
// budget the shop cannot meet exits 1; make down, with no PLAN (up
// remembered it), leaves no container, network or volume of the project;
// docker-compose's warnings about the deploy keys lab wrote are not shown.
func TestMakeUp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the plan as a Compose stack for a minute (-short)")
	}
	docker(t)
	if _, err := exec.LookPath("docker-compose"); err != nil {
		if exec.Command("docker", "compose", "version").Run() != nil {
			needs.Missing(t, "neither docker compose nor docker-compose is installed (Debian package docker-compose)")
		}
	}
	buildImage(t)
	s := newStack(t, "smoke")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() { s.run(context.Background(), []string{"deploy/stack.sh", "down"}) })

	code, out := s.run(ctx, []string{"make", "up", "WORKERS=4", "DURATION=30s"})
	if code != 0 {
		t.Fatalf("make up: exit %d\n%s", code, out)
	}
	run, err := result.Load(filepath.Join(s.results, "smoke", "latest"))
	if err != nil {
		t.Fatalf("no Run on the host: %v\n%s", err, out)
	}
	if run.Status != "complete" || run.Workers != 4 {
		t.Errorf("Run status %q with %d workers, want complete with 4", run.Status, run.Workers)
	}

	// 400 ms a request breaks the smoke plan's p95 ≤ 250ms: exit 1 exactly
	// (deploy/stack.sh; make would turn it into 2).
	code, out = s.run(ctx, []string{"deploy/stack.sh", "up"}, "WORKERS=2", "DURATION=20s", "LAB_SUT_LATENCY=400ms")
	if code != exitcode.Breach {
		t.Errorf("a budget the shop cannot meet: exit %d, want 1\n%s", code, out)
	}

	if strings.Contains(out, "endpoint_mode") || strings.Contains(out, "deploy' key") {
		t.Errorf("make up shows docker-compose's warnings about the file lab wrote:\n%s", out)
	}
	// make down without PLAN: up remembered what it started.
	if code, out := s.run(ctx, []string{"make", "down"}, "PLAN="); code != 0 || !strings.Contains(out, "taking down "+s.project) {
		t.Fatalf("make down without PLAN: exit %d\n%s", code, out)
	}
	if left := s.left("com.docker.compose.project"); left != "" {
		t.Errorf("make down left %s", left)
	}
	if _, err := os.Stat(filepath.Join(".lab", "stacks", s.project)); !os.IsNotExist(err) {
		t.Errorf("make down did not forget the stack: %v", err)
	}
}

// TestMakeUpWorkerKilled: docker kill of one of 4 worker containers mid-run
// of the spike plan (on_worker_loss = "fail") ends the run with exit 3 and
// the Run on the host.
func TestMakeUpWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the plan as a Compose stack (-short)")
	}
	docker(t)
	buildImage(t)
	s := newStack(t, "spike")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() { s.run(context.Background(), []string{"deploy/stack.sh", "down"}) })
	done := make(chan struct{})
	var code int
	var out string
	go func() {
		defer close(done)
		code, out = s.run(ctx, []string{"deploy/stack.sh", "up"}, "WORKERS=4", "DURATION=40s")
	}()
	// The 4 workers up and the run going for a while, then one is killed.
	worker := ""
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline) && worker == ""; time.Sleep(time.Second) {
		ids, _ := exec.Command("docker", "ps", "-q", "--filter", "label=com.docker.compose.project="+s.project,
			"--filter", "label=com.docker.compose.service=worker").Output()
		if f := strings.Fields(string(ids)); len(f) == 4 {
			time.Sleep(15 * time.Second)
			worker = f[0]
		}
	}
	if worker == "" {
		<-done
		t.Fatalf("4 workers never ran:\n%s", out)
	}
	if err := exec.Command("docker", "kill", worker).Run(); err != nil {
		t.Fatalf("docker kill: %v", err)
	}
	<-done
	if code != exitcode.CouldNotRun {
		t.Errorf("a worker killed under on_worker_loss = \"fail\": exit %d, want 3\n%s", code, out)
	}
	if _, err := result.Load(filepath.Join(s.results, "spike", "latest")); err != nil {
		t.Errorf("no Run on the host after the loss: %v", err)
	}
}

// TestMakeUpSwarm is issue 10's acceptance for Swarm: the same file
// deployed with docker stack deploy on a single-node swarm (made by
// up-swarm when this node is in none), the run completing with the Run on
// the host, and down-swarm removing the stack, and the swarm if it made it;
// a Compose run of the same plan in the way is named before anything is
// made.
func TestMakeUpSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the plan as a Swarm stack (-short)")
	}
	docker(t)
	buildImage(t)
	swarmState := func() string {
		out, _ := exec.Command("docker", "info", "--format", "{{.Swarm.LocalNodeState}}").Output()
		return strings.TrimSpace(string(out))
	}
	before := swarmState()
	s := newStack(t, "smoke")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() { s.run(context.Background(), []string{"deploy/stack.sh", "down-swarm"}) })

	// A Compose run of the same project in the way (its network): up-swarm
	// says so and makes nothing, the node left as it was.
	net := s.project + "_default"
	if out, err := exec.Command("docker", "network", "create", "--label", "com.docker.compose.project="+s.project, net).CombinedOutput(); err != nil {
		t.Fatalf("docker network create: %v\n%s", err, out)
	}
	code, out := s.run(ctx, []string{"deploy/stack.sh", "up-swarm"})
	exec.Command("docker", "network", "rm", net).Run()
	if code != 2 || !strings.Contains(out, "a Compose run of "+s.project+" is still up") || swarmState() != before {
		t.Fatalf("up-swarm beside a Compose run: exit %d, swarm %q (was %q)\n%s", code, swarmState(), before, out)
	}

	code, out = s.run(ctx, []string{"make", "up-swarm", "WORKERS=2", "DURATION=20s"})
	if code != 0 {
		t.Fatalf("make up-swarm: exit %d\n%s", code, out)
	}
	run, err := result.Load(filepath.Join(s.results, "smoke", "latest"))
	if err != nil {
		t.Fatalf("no Run on the host: %v\n%s", err, out)
	}
	if run.Status != "complete" || run.Workers != 2 {
		t.Errorf("Run status %q with %d workers, want complete with 2", run.Status, run.Workers)
	}
	if code, out := s.run(ctx, []string{"make", "down-swarm"}); code != 0 {
		t.Fatalf("make down-swarm: exit %d\n%s", code, out)
	}
	if left := s.left("com.docker.stack.namespace"); left != "" {
		t.Errorf("make down-swarm left %s", left)
	}
	if after := swarmState(); after != before {
		t.Errorf("the swarm was %q before and is %q after", before, after)
	}
}
