package compose

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"lab/grafana"
	"lab/lang"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// plans are the shipped plans this package is tested on, and one against a
// service of one's own (no sut block, no host or workers variable).
var plans = map[string]string{
	"smoke":     "../../plans/smoke.hcl",
	"leak-test": "../../plans/leak-test.hcl",
	"own":       "testdata/own.hcl",
}

func load(t *testing.T, name string) *lang.Plan {
	t.Helper()
	plan, diags := lang.NewLoader(lang.Options{}).Load(plans[name])
	if diags.HasErrors() {
		t.Fatalf("%s: %v", name, diags)
	}
	return plan
}

func build(t *testing.T, name string) (main, monitoring []byte) {
	t.Helper()
	files, err := Build(load(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Name != FileName || files[1].Name != MonitoringName {
		t.Fatalf("Build gave %d files, want %s and %s", len(files), FileName, MonitoringName)
	}
	return files[0].Data, files[1].Data
}

// TestGolden holds the files byte for byte; a change on purpose is
// rewritten by go test ./deploy/compose -update (and make generate).
func TestGolden(t *testing.T) {
	for name := range plans {
		main, mon := build(t, name)
		golden(t, name+".compose.yaml", main)
		golden(t, name+".compose.monitoring.yaml", mon)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./deploy/compose -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (if the change is meant, run go test ./deploy/compose -update):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// loadStack reads files as docker compose would, with env for the
// environment of `up`.
func loadStack(t *testing.T, env map[string]string, files ...[]byte) *types.Project {
	t.Helper()
	details := types.ConfigDetails{WorkingDir: t.TempDir(), Environment: env}
	for i, data := range files {
		data = bytes.Replace(data, []byte(versionLine), nil, 1) // compose-go would warn that it ignores it
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: filepath.Join(details.WorkingDir, string(rune('a'+i))+".yaml"), Content: data})
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) { o.SetProjectName("test", true) })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStackWiring(t *testing.T) {
	env := map[string]string{"WORKERS": "5", "LAB_TOKEN": "s3cret", "LAB_RESULTS": "/srv/results"}
	main, mon := build(t, "smoke")
	p := loadStack(t, env, main, mon)
	if got := slices.Sorted(maps.Keys(p.Services)); !slices.Equal(got, []string{"grafana", "master", "prometheus", "shop", "worker"}) {
		t.Fatalf("services %v", got)
	}
	shop, master, worker := p.Services["shop"], p.Services["master"], p.Services["worker"]
	if got := strings.Join(shop.Command, " "); got != "sut --listen 0.0.0.0:8080" {
		t.Errorf("shop command %q", got)
	}
	if v := shop.Environment["LAB_SUT_LATENCY"]; v == nil || *v != "2ms" {
		t.Errorf("shop knob latency not passed as LAB_SUT_LATENCY=2ms: %v", v)
	}
	if v := shop.Environment["LAB_SUT_WRONG_RATE"]; v == nil || *v != "0.01" {
		t.Errorf("shop knob wrong_rate not passed: %v", v)
	}
	wantMaster := "apply /plans/smoke.hcl --remote-workers --listen 0.0.0.0:5557 --no-sut --results /results --metrics 0.0.0.0:9646 --wait-target 60s -var host=http://shop:8080 -var workers=5"
	if got := strings.Join(master.Command, " "); got != wantMaster {
		t.Errorf("master command\n got %q\nwant %q", got, wantMaster)
	}
	if _, ok := master.DependsOn["shop"]; !ok {
		t.Error("the master does not start after the shop")
	}
	if len(master.Volumes) != 1 || master.Volumes[0].Source != "/srv/results" || master.Volumes[0].Target != "/results" {
		t.Errorf("master volumes %+v: want only LAB_RESULTS on /results (no Docker socket without a leak block)", master.Volumes)
	}
	if got := strings.Join(worker.Command, " "); got != "worker --master master:5557" {
		t.Errorf("worker command %q", got)
	}
	if worker.GetScale() != 5 {
		t.Errorf("worker replicas %d, want WORKERS=5", worker.GetScale())
	}
	for _, s := range []types.ServiceConfig{master, worker} {
		if v := s.Environment["LAB_TOKEN"]; v == nil || *v != "s3cret" {
			t.Errorf("%s: LAB_TOKEN not passed from the environment: %v", s.Name, v)
		}
		if s.Image != Image {
			t.Errorf("%s: image %q", s.Name, s.Image)
		}
	}
	if _, ok := master.Environment["LAB_VAR_duration"]; !ok {
		t.Error("the master does not take LAB_VAR_duration from the environment")
	}
}

func TestWorkersDefaultToThePlans(t *testing.T) {
	main, _ := build(t, "smoke")
	p := loadStack(t, map[string]string{"LAB_TOKEN": "x"}, main)
	w := p.Services["worker"]
	if n := w.GetScale(); n != 1 {
		t.Errorf("worker replicas %d without WORKERS, want the plan's 1", n)
	}
	if !slices.Contains(p.Services["master"].Command, "workers=1") {
		t.Errorf("master command %v lacks workers=1", p.Services["master"].Command)
	}
}

func TestLeakPlanSamplesTheShopThroughDocker(t *testing.T) {
	main, _ := build(t, "leak-test")
	p := loadStack(t, map[string]string{"LAB_TOKEN": "x"}, main)
	shop, master := p.Services["shop"], p.Services["master"]
	if shop.ContainerName != "lab-leak-test-shop" {
		t.Errorf("shop container name %q", shop.ContainerName)
	}
	i := slices.Index(master.Command, "--sut-container")
	if i < 0 || i+1 >= len(master.Command) || master.Command[i+1] != shop.ContainerName {
		t.Errorf("master command %v does not sample the shop's container %q", master.Command, shop.ContainerName)
	}
	var sock bool
	for _, v := range master.Volumes {
		if v.Source == DockerSocket && v.Target == DockerSocket {
			sock = v.ReadOnly
		}
	}
	if !sock {
		t.Errorf("master volumes %+v: want the Docker socket read-only", master.Volumes)
	}
	if v := shop.Environment["LAB_SUT_LEAK_PER_REQUEST"]; v == nil || *v != "50KB" {
		t.Errorf("shop knob leak_per_request not passed: %v", v)
	}
}

// The workers are placed where the plan's topology says (Swarm).
func TestOwnServiceHasNoShop(t *testing.T) {
	main, _ := build(t, "own")
	p := loadStack(t, map[string]string{"LAB_TOKEN": "x", "WORKERS": "2"}, main)
	if _, ok := p.Services["shop"]; ok {
		t.Error("a plan without a sut block got a shop service")
	}
	want0 := []string{"node.labels.lab == worker", "node.role != manager"}
	if got := p.Services["worker"].Deploy.Placement.Constraints; !slices.Equal(got, want0) {
		t.Errorf("worker placement %q, want the plan's %q", got, want0)
	}
	want := "apply /plans/own.hcl --remote-workers --listen 0.0.0.0:5557 --no-sut --results /results --metrics 0.0.0.0:9646 --workers 2"
	if got := strings.Join(p.Services["master"].Command, " "); got != want {
		t.Errorf("master command\n got %q\nwant %q", got, want)
	}
}

// TestOldLoaderForms holds the forms docker-compose 1.29 and stack deploy
// need: a version, no name, no profiles, depends_on as a list.
func TestOldLoaderForms(t *testing.T) {
	for name := range plans {
		main, mon := build(t, name)
		for _, data := range [][]byte{main, mon} {
			s := string(data)
			if !strings.Contains(s, "\n"+versionLine) {
				t.Errorf("%s: no %q", name, versionLine)
			}
			for _, bad := range []string{"\nname:", "profiles:", "required:", "condition: service_started"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s: the file has %q, which the old loaders refuse", name, bad)
				}
			}
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	main, _ := build(t, "smoke")
	broken := bytes.Replace(main, []byte("replicas: ${WORKERS:-1}"), []byte("replicas: many"), 1)
	if err := Check("smoke", broken); err == nil {
		t.Error("Check passed replicas: many")
	}
	fixed := bytes.Replace(main, []byte("replicas: ${WORKERS:-1}"), []byte("replicas: 1"), 1)
	if err := Check("smoke", fixed); err == nil || !strings.Contains(err.Error(), "WORKERS") {
		t.Errorf("Check passed workers not sized by WORKERS: %v", err)
	}
	if err := Check("smoke", main); err != nil {
		t.Errorf("Check refuses the generated file: %v", err)
	}
}

// TestMonitoringWiring: the monitoring file mounts the files package
// grafana writes where Prometheus and Grafana read them, and publishes
// Grafana, whose admin password is the stack's token.
func TestMonitoringWiring(t *testing.T) {
	env := map[string]string{"WORKERS": "1", "LAB_TOKEN": "s3cret", "LAB_GRAFANA_PORT": "3300"}
	main, mon := build(t, "leak-test")
	p := loadStack(t, env, main, mon)
	dir := p.WorkingDir
	mounts := func(s types.ServiceConfig) map[string]string {
		m := map[string]string{}
		for _, v := range s.Volumes {
			if !v.ReadOnly {
				t.Errorf("%s: %s is mounted writable", s.Name, v.Target)
			}
			m[v.Target] = v.Source
		}
		return m
	}
	want := map[string]map[string]string{
		"prometheus": {"/etc/prometheus/prometheus.yml": "prometheus.yml"},
		"grafana": {
			"/etc/grafana/provisioning/datasources/lab.yaml": "grafana/datasource.yaml",
			"/etc/grafana/provisioning/dashboards/lab.yaml":  "grafana/provider.yaml",
			"/var/lib/grafana/dashboards/lab/dashboard.json": "grafana/dashboard.json",
		},
	}
	for name, files := range want {
		got := mounts(p.Services[name])
		for target, src := range files {
			if got[target] != filepath.Join(dir, src) {
				t.Errorf("%s: %s mounted from %q, want generated/<plan>/%s", name, target, got[target], src)
			}
		}
	}
	g := p.Services["grafana"]
	if len(g.Ports) != 1 || g.Ports[0].Published != "3300" || g.Ports[0].Target != 3000 {
		t.Errorf("grafana ports %+v: want LAB_GRAFANA_PORT published to 3000", g.Ports)
	}
	if v := g.Environment["GF_SECURITY_ADMIN_PASSWORD"]; v == nil || *v != "s3cret" {
		t.Errorf("grafana's admin password is not LAB_TOKEN: %v", v)
	}
	if v := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; v == nil || *v != "/var/lib/grafana/dashboards/lab/dashboard.json" {
		t.Errorf("grafana's home dashboard is not the plan's: %v", v)
	}
	// Prometheus sends the master LAB_TOKEN, which its shell writes to the
	// file prometheus.yml names (Compose leaves it the shell's $).
	prom := p.Services["prometheus"]
	if cmd := strings.Join(prom.Command, " "); !strings.Contains(cmd, `"$LAB_TOKEN" > `+grafana.TokenFile) || !strings.Contains(cmd, "exec /bin/prometheus --config.file=/etc/prometheus/prometheus.yml") {
		t.Errorf("prometheus command %q does not write the token to %s and start Prometheus", cmd, grafana.TokenFile)
	}
	if v := prom.Environment["LAB_TOKEN"]; v == nil || *v != "s3cret" {
		t.Errorf("prometheus is not given LAB_TOKEN: %v", v)
	}
	// The master serves /metrics where prometheus.yml scrapes it.
	if cmd := strings.Join(p.Services["master"].Command, " "); !strings.Contains(cmd, "--metrics 0.0.0.0:"+grafana.MetricsPort) ||
		grafana.MasterTarget != MasterService+":"+grafana.MetricsPort {
		t.Errorf("master command %q does not serve metrics where Prometheus scrapes (%s)", cmd, grafana.MasterTarget)
	}
	if g.Image != GrafanaImage || p.Services["prometheus"].Image != PrometheusImage {
		t.Errorf("images %s, %s: want the official ones", g.Image, p.Services["prometheus"].Image)
	}
}
