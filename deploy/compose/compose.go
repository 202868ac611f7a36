// Package compose writes the Docker Compose files that run a plan as
// containers of the lab image: the plan's shop (when it has a sut block), the
// master (`lab apply --remote-workers`) and the workers as one scalable
// service, in generated/<plan>/compose.yaml; and a second file,
// compose.monitoring.yaml, layered on top with -f (Swarm's stack deploy
// rejects profiles, so the optional services cannot live in the first file).
//
// The files are built with compose-go's types and checked by its loader
// before they are written, then adapted to the older loaders that read them
// here: docker-compose 1.29 and `docker stack deploy` of engine 20.10 (no
// top-level name, depends_on as a list, version "3.9"; see Build).
//
// What the files take from the environment, at `up` time:
//
//	WORKERS       how many workers (default: the plan's topology)
//	LAB_TOKEN     the token workers join with (required: the master listens
//	              on every interface of its network)
//	LAB_RESULTS   host folder the master writes runs to (default: the
//	              repository's results/, seen from generated/<plan>/)
//	LAB_VAR_name  any variable of the plan, and LAB_SHAPE, passed to the master
//	LAB_SUT_KNOB  any knob of the shop (the plan's value is the default)
//	LAB_SHOP_CONTAINER  the shop's container name (under Swarm, its service's
//	              name), for plans whose leak block reads the shop's memory
//	              through the Docker engine
package compose

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"lab/grafana"
	"lab/lang"
	"lab/lang/shopknobs"
)

// The names the files use.
const (
	Image          = "lab:latest"
	FileName       = "compose.yaml"
	MonitoringName = "compose.monitoring.yaml"

	ShopService   = "shop"
	MasterService = "master"
	WorkerService = "worker"

	PrometheusService = "prometheus"
	GrafanaService    = "grafana"
	// The official images of the monitoring file, pinned.
	PrometheusImage = "prom/prometheus:v2.53.0"
	GrafanaImage    = "grafana/grafana:12.2.0"

	// MasterPort is where the master listens for workers, inside the
	// stack's network.
	MasterPort = 5557
	// ResultsDir is where the master writes runs, in its container.
	ResultsDir = "/results"
	// PlansDir is where the image holds the shipped plans.
	PlansDir = "/plans"
	// DockerSocket is the engine's socket, mounted read-only into the
	// master when the plan's leak block reads memory through the engine.
	DockerSocket = "/var/run/docker.sock"
)

// File is one generated file: its name in generated/<plan>/ and its bytes.
type File struct {
	Name string
	Data []byte
}

// Build returns compose.yaml and compose.monitoring.yaml for plan, each
// checked by compose-go's loader (the second layered on the first).
func Build(plan *lang.Plan) ([]File, error) {
	main, err := render(Project(plan), plan.Topology.Workers)
	if err != nil {
		return nil, fmt.Errorf("compose file of plan %s: %w", plan.Name, err)
	}
	mon, err := render(Monitoring(plan), 0)
	if err != nil {
		return nil, fmt.Errorf("monitoring compose file of plan %s: %w", plan.Name, err)
	}
	if err := Check(plan.Name, main); err != nil {
		return nil, fmt.Errorf("%s of plan %s: %w", FileName, plan.Name, err)
	}
	if err := Check(plan.Name, main, mon); err != nil {
		return nil, fmt.Errorf("%s of plan %s: %w", MonitoringName, plan.Name, err)
	}
	return []File{{FileName, main}, {MonitoringName, mon}}, nil
}

// Project is the plan's stack as compose-go types: shop, master, worker.
func Project(plan *lang.Plan) *types.Project {
	services := types.Services{
		MasterService: master(plan),
		WorkerService: worker(plan),
	}
	if plan.SUT != nil {
		services[ShopService] = shop(plan)
	}
	return &types.Project{Services: services}
}

// Monitoring is the second file's services: Prometheus scraping the master
// with generated/<plan>/prometheus.yml, and Grafana provisioned with the
// plan's dashboard and that Prometheus as its datasource (package grafana
// writes the files; the bind mounts are relative to the first file's
// folder). Both are the official images, pulled by the engine. Grafana is
// published on LAB_GRAFANA_PORT (default 3000); its admin password is
// LAB_TOKEN, and anonymous visitors may view the dashboards.
func Monitoring(plan *lang.Plan) *types.Project {
	prom := types.ServiceConfig{
		Deploy: &types.DeployConfig{Placement: types.Placement{Constraints: []string{managerOnly}}},
		ContainerSpec: types.ContainerSpec{
			Image: PrometheusImage,
			// The master asks scrapers for LAB_TOKEN; Prometheus reads it
			// from a file (grafana.TokenFile), written here first ($$ is
			// a $ for the shell, not for Compose).
			Entrypoint: types.ShellCommand{"/bin/sh", "-c"},
			Command: types.ShellCommand{fmt.Sprintf(
				`umask 077 && printf %%s "$$LAB_TOKEN" > %s && exec /bin/prometheus --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus`,
				grafana.TokenFile)},
			Environment: types.MappingWithEquals{"LAB_TOKEN": ptr(tokenRef)},
			Volumes: []types.ServiceVolumeConfig{
				readOnly("./"+grafana.PrometheusFile, "/etc/prometheus/prometheus.yml"),
			},
			Labels: labels(plan, PrometheusService),
		},
		WorkloadSpec: types.WorkloadSpec{Expose: types.StringOrNumberList{"9090"}},
	}
	return &types.Project{Services: types.Services{PrometheusService: prom, GrafanaService: grafanaService(plan)}}
}

func grafanaService(plan *lang.Plan) types.ServiceConfig {
	dashboard := grafana.DashboardsDir + "/" + filepath.Base(grafana.DashboardFile)
	return types.ServiceConfig{
		// The provisioning files are bind mounts from the node that runs
		// `make up-swarm`.
		Deploy: &types.DeployConfig{Placement: types.Placement{Constraints: []string{managerOnly}}},
		ContainerSpec: types.ContainerSpec{
			Image: GrafanaImage,
			Environment: types.MappingWithEquals{
				"GF_SECURITY_ADMIN_PASSWORD":                ptr(tokenRef),
				"GF_AUTH_ANONYMOUS_ENABLED":                 ptr("true"),
				"GF_AUTH_ANONYMOUS_ORG_ROLE":                ptr("Viewer"),
				"GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH": ptr(dashboard),
			},
			Volumes: []types.ServiceVolumeConfig{
				readOnly("./"+grafana.DatasourceFile, "/etc/grafana/provisioning/datasources/lab.yaml"),
				readOnly("./"+grafana.ProviderFile, "/etc/grafana/provisioning/dashboards/lab.yaml"),
				readOnly("./"+grafana.DashboardFile, dashboard),
			},
			Labels: labels(plan, GrafanaService),
		},
		WorkloadSpec: types.WorkloadSpec{
			Ports:     []types.ServicePortConfig{{Target: 3000, Published: "${LAB_GRAFANA_PORT:-3000}", Protocol: "tcp"}},
			DependsOn: types.DependsOnConfig{PrometheusService: {Condition: types.ServiceConditionStarted, Required: true}},
		},
	}
}

func readOnly(source, target string) types.ServiceVolumeConfig {
	return types.ServiceVolumeConfig{Type: types.VolumeTypeBind, Source: source, Target: target, ReadOnly: true}
}

// shop runs the bundled shop with the plan's knobs as LAB_SUT_* variables
// (each overridable from the environment of `up`), listening on every
// interface of the stack's network. Scratch has no shell for a healthcheck
// and lab no command for one: the master starts after it (depends_on,
// under Compose) and waits for it to listen (--wait-target, for Swarm,
// which ignores depends_on).
func shop(plan *lang.Plan) types.ServiceConfig {
	env := types.MappingWithEquals{}
	for _, k := range shopknobs.All() {
		if k.Name == "listen" {
			continue
		}
		// Every knob can be set from the environment of `up`
		// (LAB_SUT_LATENCY=400ms); the plan's value is the default.
		if text := plan.SUT.Knob(k.Name); text != "" {
			env[k.Env] = ptr(fmt.Sprintf("${%s:-%s}", k.Env, text))
		} else {
			env[k.Env] = nil
		}
	}
	s := types.ServiceConfig{
		Deploy: &types.DeployConfig{EndpointMode: dnsrr},
		ContainerSpec: types.ContainerSpec{
			Image:       Image,
			Command:     types.ShellCommand{"sut", "--listen", "0.0.0.0:" + shopPort(plan)},
			Environment: env,
			Labels:      labels(plan, ShopService),
		},
		WorkloadSpec: types.WorkloadSpec{Expose: types.StringOrNumberList{shopPort(plan)}},
	}
	if sampledThroughDocker(plan) {
		// A fixed name, so the master can ask the engine for its stats.
		// Swarm ignores it: there the master asks for the service's task
		// (LAB_SHOP_CONTAINER=<stack>_shop), which must run on the
		// master's node, whose engine it asks.
		s.ContainerName = shopContainer(plan)
		s.Deploy.Placement.Constraints = []string{managerOnly}
	}
	return s
}

// master runs the plan (baked into the image at /plans) with remote
// workers, the shop elsewhere, and runs written to the bind-mounted
// results folder.
func master(plan *lang.Plan) types.ServiceConfig {
	grace := types.Duration(30 * time.Second) // the run's grace (10 s) and writing it
	s := types.ServiceConfig{
		Deploy: &types.DeployConfig{
			EndpointMode:  dnsrr,
			RestartPolicy: &types.RestartPolicy{Condition: "none"},
			// Results are bind-mounted from the host that runs `make`.
			Placement: types.Placement{Constraints: []string{managerOnly}},
		},
		ContainerSpec: types.ContainerSpec{
			Image:           Image,
			Command:         masterCommand(plan),
			Environment:     masterEnv(plan),
			Volumes:         masterVolumes(plan),
			StopGracePeriod: &grace,
			Labels:          labels(plan, MasterService),
		},
	}
	if plan.SUT != nil {
		s.DependsOn = types.DependsOnConfig{ShopService: {Condition: types.ServiceConditionStarted, Required: true}}
	}
	return s
}

func masterCommand(plan *lang.Plan) types.ShellCommand {
	cmd := types.ShellCommand{"apply", PlansDir + "/" + filepath.Base(plan.File),
		"--remote-workers", "--listen", "0.0.0.0:" + strconv.Itoa(MasterPort),
		"--no-sut", "--results", ResultsDir,
		// Prometheus (the monitoring file) scrapes it across the stack's
		// network, with LAB_TOKEN.
		"--metrics", "0.0.0.0:" + grafana.MetricsPort}
	if plan.SUT != nil {
		// Swarm ignores depends_on: the shop may start after the master.
		cmd = append(cmd, "--wait-target", "60s")
		if declares(plan, "host") {
			cmd = append(cmd, "-var", "host=http://"+ShopService+":"+shopPort(plan))
		}
	}
	workers := workersRef(plan)
	if declares(plan, "workers") {
		cmd = append(cmd, "-var", "workers="+workers)
	} else {
		cmd = append(cmd, "--workers", workers)
	}
	if sampledThroughDocker(plan) {
		cmd = append(cmd, "--sut-container", shopContainer(plan))
	}
	return cmd
}

// masterEnv passes the token, and every variable of the plan the command
// line does not set, from the environment of `up` (unset stays unset).
func masterEnv(plan *lang.Plan) types.MappingWithEquals {
	env := types.MappingWithEquals{"LAB_TOKEN": ptr(tokenRef), "LAB_SHAPE": nil}
	for _, v := range plan.Vars {
		if v.Name == "host" || v.Name == "workers" {
			continue
		}
		env["LAB_VAR_"+v.Name] = nil
	}
	return env
}

func masterVolumes(plan *lang.Plan) []types.ServiceVolumeConfig {
	vols := []types.ServiceVolumeConfig{{
		Type: types.VolumeTypeBind, Source: "${LAB_RESULTS:-../../results}", Target: ResultsDir,
	}}
	if plan.Leak != nil && (sampledThroughDocker(plan) || plan.Leak.Memory.Kind == lang.MemoryContainer) {
		vols = append(vols, types.ServiceVolumeConfig{
			Type: types.VolumeTypeBind, Source: DockerSocket, Target: DockerSocket, ReadOnly: true,
		})
	}
	return vols
}

// worker is one scalable service: WORKERS replicas that join the master
// and run their share. They need no plan file: the master sends it.
func worker(plan *lang.Plan) types.ServiceConfig {
	replicas := max(plan.Topology.Workers, 1)
	return types.ServiceConfig{
		Deploy: &types.DeployConfig{
			Replicas:      &replicas, // becomes ${WORKERS:-N} in the file (see render)
			RestartPolicy: &types.RestartPolicy{Condition: "none"},
			// Where Swarm may run them: topology.placement.
			Placement: types.Placement{Constraints: plan.Topology.Placement},
		},
		ContainerSpec: types.ContainerSpec{
			Image:       Image,
			Command:     types.ShellCommand{"worker", "--master", MasterService + ":" + strconv.Itoa(MasterPort)},
			Environment: types.MappingWithEquals{"LAB_TOKEN": ptr(tokenRef)},
			Labels:      labels(plan, WorkerService),
		},
		WorkloadSpec: types.WorkloadSpec{
			DependsOn: types.DependsOnConfig{MasterService: {Condition: types.ServiceConditionStarted, Required: true}},
		},
	}
}

const managerOnly = "node.role == manager"

// dnsrr: Swarm resolves the service's name to its task's address. Its
// default, a virtual IP, needs the kernel's IPVS, which not every host has
// (this one has not: the shop behind a VIP never answered).
const dnsrr = "dnsrr"

// tokenRef makes `up` fail at once, saying why, when LAB_TOKEN is unset.
const tokenRef = "${LAB_TOKEN:?set LAB_TOKEN to the token workers join with}"

func workersRef(plan *lang.Plan) string {
	return fmt.Sprintf("${WORKERS:-%d}", max(plan.Topology.Workers, 1))
}

// sampledThroughDocker says the leak block reads the bundled shop's
// memory: in a stack, through the Docker engine (the master cannot see the
// shop's process).
func sampledThroughDocker(plan *lang.Plan) bool {
	return plan.Leak != nil && plan.SUT != nil && plan.Leak.Memory.Kind == lang.MemorySUT
}

func shopContainer(plan *lang.Plan) string {
	return fmt.Sprintf("${LAB_SHOP_CONTAINER:-lab-%s-shop}", plan.Name)
}

// shopPort is the port of the plan's sut listen address (8080 by default).
func shopPort(plan *lang.Plan) string {
	if plan.SUT != nil {
		if _, port, err := net.SplitHostPort(plan.SUT.Listen); err == nil && port != "" {
			return port
		}
	}
	_, port, _ := net.SplitHostPort(lang.DefaultSUTListen)
	return port
}

func declares(plan *lang.Plan, name string) bool {
	for _, v := range plan.Vars {
		if v.Name == name {
			return true
		}
	}
	return false
}

func labels(plan *lang.Plan, role string) types.Labels {
	return types.Labels{"lab.plan": plan.Name, "lab.role": role}
}

func ptr(s string) *string { return &s }
