// Package grafana builds, from a plan, what watches its run live: a Grafana
// dashboard (built with Grafana's own typed builders, the Foundation SDK),
// the files that provision it and its Prometheus datasource into a Grafana,
// and the prometheus.yml that scrapes the run's metrics. lab plan writes
// them to generated/<plan>/ (docs/DESIGN.md, "The flow").
//
// Every panel query is plain PromQL over the metrics `lab apply` serves
// (their names are in lang/metricnames); each is parsed by Prometheus's
// own parser before anything is written (Check), so a query Prometheus
// would refuse is a bug of lab found at plan time, not an empty panel found
// during a run.
package grafana

import (
	"encoding/json"
	"fmt"

	"lab/lang"
)

// The names of the generated files, relative to generated/<plan>/.
const (
	DashboardFile  = "grafana/dashboard.json"
	DatasourceFile = "grafana/datasource.yaml"
	ProviderFile   = "grafana/provider.yaml"
	PrometheusFile = "prometheus.yml"
)

// Where the monitoring stack's services find each other and their files
// (deploy/compose mounts the files there).
const (
	// DatasourceUID is the provisioned datasource's uid: every panel and
	// query of the dashboard refers to it.
	DatasourceUID  = "lab-prometheus"
	DatasourceType = "prometheus"
	// PrometheusURL is Prometheus as Grafana reaches it in the stack.
	PrometheusURL = "http://prometheus:9090"
	// MetricsPort is where the master serves /metrics in the stack
	// (lab apply --metrics 0.0.0.0:9646), and MasterTarget where
	// Prometheus scrapes it.
	MetricsPort  = "9646"
	MasterTarget = "master:" + MetricsPort
	// TokenFile holds the token Prometheus sends the master (the
	// monitoring compose file writes LAB_TOKEN there before Prometheus
	// starts).
	TokenFile = "/prometheus/lab-token"
	// ScrapeInterval is Prometheus's scrape interval, also told to
	// Grafana (timeInterval) so that $__rate_interval spans 4 scrapes.
	ScrapeInterval = "5s"
	// DashboardsDir is the folder, in Grafana's container, that the
	// dashboard provider reads.
	DashboardsDir = "/var/lib/grafana/dashboards/lab"
)

// File is one generated file: its path in generated/<plan>/ and its bytes.
type File struct {
	Name string
	Data []byte
}

// Build returns the plan's dashboard, datasource, dashboard provider and
// prometheus.yml. An error is a bug of lab (a query that does not parse, a
// dashboard the SDK refuses), never of the plan.
func Build(plan *lang.Plan) ([]File, error) {
	dash, err := Dashboard(plan)
	if err != nil {
		return nil, fmt.Errorf("grafana dashboard of plan %s: %w", plan.Name, err)
	}
	if err := CheckQueries(dash); err != nil {
		return nil, fmt.Errorf("grafana dashboard of plan %s: %w", plan.Name, err)
	}
	data, err := json.MarshalIndent(dash, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("grafana dashboard of plan %s: %w", plan.Name, err)
	}
	prom, err := PrometheusConfig(plan)
	if err != nil {
		return nil, fmt.Errorf("prometheus.yml of plan %s: %w", plan.Name, err)
	}
	return []File{
		{DashboardFile, append(data, '\n')},
		{DatasourceFile, []byte(datasourceYAML)},
		{ProviderFile, []byte(providerYAML)},
		{PrometheusFile, prom},
	}, nil
}
