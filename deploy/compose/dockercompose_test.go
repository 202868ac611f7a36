package compose

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"lab/runtime/needs"
)

// TestDockerComposeAccepts runs this machine's docker-compose (1.29, the
// oldest loader the files must pass) on every plan's files, the monitoring
// file layered on top, and reads back what it resolved.
func TestDockerComposeAccepts(t *testing.T) {
	bin := needs.Tool(t, "docker-compose", "Debian package docker-compose")
	for name := range plans {
		main, mon := build(t, name)
		dir := filepath.Join(t.TempDir(), "generated", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for file, data := range map[string][]byte{FileName: main, MonitoringName: mon} {
			if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, err := composeConfig(bin, dir, "LAB_TOKEN=x", "WORKERS=7")
		if err != nil {
			t.Fatalf("%s: docker-compose config refuses the files: %v\n%s", name, err, out)
		}
		var got struct {
			Services map[string]struct {
				Command []string
				Deploy  struct{ Replicas int }
			}
		}
		if err := yaml.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := got.Services["worker"].Deploy.Replicas; n != 7 {
			t.Errorf("%s: docker-compose resolves %d worker replicas with WORKERS=7", name, n)
		}
		if _, ok := got.Services["prometheus"]; !ok {
			t.Errorf("%s: the monitoring file's prometheus service is not layered on", name)
		}
		if cmd := strings.Join(got.Services["master"].Command, " "); !strings.Contains(cmd, "/plans/"+filepath.Base(plans[name])) {
			t.Errorf("%s: master command %q", name, cmd)
		}
		// Without a token the stack does not start, and says why.
		if out, err := composeConfig(bin, dir, "WORKERS=7"); err == nil || !strings.Contains(string(out), "set LAB_TOKEN") {
			t.Errorf("%s: docker-compose accepts the files without LAB_TOKEN: %v\n%s", name, err, out)
		}
	}
}

func composeConfig(bin, dir string, env ...string) ([]byte, error) {
	cmd := exec.Command(bin, "-p", "labtest", "-f", FileName, "-f", MonitoringName, "config")
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
