package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"lab/deploy/compose"
	"lab/runtime/needs"
)

// TestDockerComposeAccepts runs this machine's docker-compose (1.29, the
// oldest loader the files must pass) on the Compose files lab plan writes
// for the shipped plans, the monitoring file layered on top, and reads back
// what it resolved.
func TestDockerComposeAccepts(t *testing.T) {
	bin := needs.Tool(t, "docker-compose", "Debian package docker-compose")
	out := t.TempDir()
	for _, name := range []string{"smoke", "leak-test"} {
		if code, _, stderr := lab(t, nil, "plan", "plans/"+name+".hcl", "--out", out); code != 0 {
			t.Fatalf("lab plan plans/%s.hcl: exit %d\n%s", name, code, stderr)
		}
		dir := filepath.Join(out, name)
		got, err := composeConfig(bin, dir, "LAB_TOKEN=x", "WORKERS=7")
		if err != nil {
			t.Fatalf("%s: docker-compose config refuses the files: %v\n%s", name, err, got)
		}
		var resolved struct {
			Services map[string]struct {
				Command []string
				Deploy  struct{ Replicas int }
			}
		}
		if err := yaml.Unmarshal(got, &resolved); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := resolved.Services["worker"].Deploy.Replicas; n != 7 {
			t.Errorf("%s: docker-compose resolves %d worker replicas with WORKERS=7", name, n)
		}
		if _, ok := resolved.Services["prometheus"]; !ok {
			t.Errorf("%s: the monitoring file's prometheus service is not layered on", name)
		}
		if cmd := strings.Join(resolved.Services["master"].Command, " "); !strings.Contains(cmd, "/plans/"+name+".hcl") {
			t.Errorf("%s: master command %q", name, cmd)
		}
		// Without a token the stack does not start, and says why.
		if got, err := composeConfig(bin, dir, "WORKERS=7"); err == nil || !strings.Contains(string(got), "set LAB_TOKEN") {
			t.Errorf("%s: docker-compose accepts the files without LAB_TOKEN: %v\n%s", name, err, got)
		}
	}
}

func composeConfig(bin, dir string, env ...string) ([]byte, error) {
	cmd := exec.Command(bin, "-p", "labtest", "-f", compose.FileName, "-f", compose.MonitoringName, "config")
	cmd.Dir = dir
	// The files' variables come from env alone, not from the tester's shell.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LAB_") && !strings.HasPrefix(kv, "WORKERS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd.CombinedOutput()
}
