package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lab/lang"
	"lab/runtime/memory"
	"lab/runtime/memory/hogtest"
	"lab/runtime/needs"
)

// dockerCLI runs the docker command, bounded in time.
func dockerCLI(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// A real container: an image FROM scratch around the static hog, run with
// `docker run -i`, sampled through the engine's API while it allocates.
// The container and image are removed by the ids this test created.
func TestContainerSamplerSeesAContainerAllocate(t *testing.T) {
	needs.Tool(t, "docker", "the Docker engine")
	if out, err := dockerCLI(t, 20*time.Second, "info", "--format", "{{.ServerVersion}}"); err != nil {
		needs.Missing(t, "the Docker engine is not available: %v", strings.TrimSpace(out))
	}
	hogBin := hogtest.Build(t)

	ctxDir := t.TempDir()
	data, err := os.ReadFile(hogBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "hog"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	dockerfile := "FROM scratch\nCOPY hog /hog\nENTRYPOINT [\"/hog\"]\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	iidFile := filepath.Join(t.TempDir(), "iid")
	if _, err := dockerCLI(t, 2*time.Minute, "build", "-q", "--iidfile", iidFile, ctxDir); err != nil {
		t.Fatal(err)
	}
	iid, err := os.ReadFile(iidFile)
	if err != nil {
		t.Fatal(err)
	}
	image := strings.TrimSpace(string(iid))
	t.Cleanup(func() {
		if _, err := dockerCLI(t, time.Minute, "rmi", image); err != nil {
			t.Errorf("removing the test image: %v", err)
		}
	})

	name := fmt.Sprintf("lab-memory-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	cidFile := filepath.Join(t.TempDir(), "cid")
	h := hogtest.Start(t, "docker", "run", "-i", "--name", name, "--cidfile", cidFile, "--network", "none", image)
	cid, err := os.ReadFile(cidFile)
	if err != nil || len(strings.TrimSpace(string(cid))) == 0 {
		t.Fatalf("no container id in %s: %v", cidFile, err)
	}
	// Registered after the image's cleanup, so it runs first.
	t.Cleanup(func() {
		if _, err := dockerCLI(t, time.Minute, "rm", "-f", strings.TrimSpace(string(cid))); err != nil {
			t.Errorf("removing the test container: %v", err)
		}
	})

	s, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemoryContainer, Name: name}, memory.SUTInfo{})
	if err != nil {
		t.Fatal(err)
	}
	before := sampleMemory(t, s)
	const n = 64 * hogtest.MiB
	h.Alloc(t, n)
	after := sampleMemory(t, s)
	grew := after.Bytes - before.Bytes
	t.Logf("%s: %.1f MiB → %.1f MiB, grew %.2f MiB for %d MiB allocated",
		s.Source(), before.Bytes/hogtest.MiB, after.Bytes/hogtest.MiB, grew/hogtest.MiB, n/hogtest.MiB)
	if grew < 0.9*n || grew > 1.25*n {
		t.Errorf("grew %.2f MiB, want about %d MiB", grew/hogtest.MiB, n/hogtest.MiB)
	}
	if s.Kind() != memory.KindDocker || after.GCCycles != -1 {
		t.Errorf("kind %q, GC cycles %d; want docker, -1", s.Kind(), after.GCCycles)
	}

	// Ended: the engine still knows the container but has no memory figures.
	h.Stop(t)
	if _, err := s.Sample(context.Background()); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("sampling a stopped container: %v, want an error saying it is not running", err)
	}
	gone, err := memory.NewSampler(lang.MemorySource{Kind: lang.MemoryContainer, Name: name + "-absent"}, memory.SUTInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gone.Sample(context.Background()); err == nil || !strings.Contains(err.Error(), "No such container") {
		t.Errorf("sampling an absent container: %v, want the engine's No such container", err)
	}
}

func sampleMemory(t *testing.T, s memory.Sampler) memory.Reading {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.Sample(ctx)
	if err != nil {
		t.Fatalf("%s: %v", s.Source(), err)
	}
	return r
}
