// Package metricnames is the one list of the names of the Prometheus
// metrics `lab apply --metrics` serves (docs/METRICS.md): runtime/metrics
// registers its metrics under them, grafana's dashboard queries them.
//
// It is a leaf under lang, importing nothing, so that grafana reads the
// names without importing runtime/metrics, which imports the engine.
package metricnames

// The metrics, in docs/METRICS.md's order; labels in braces.
const (
	RunInfo         = "lab_run_info"                  // gauge (1) {plan, shape, model}
	Requests        = "lab_requests_total"            // counter {request}
	Failures        = "lab_failures_total"            // counter {request, class}
	Response        = "lab_response_seconds"          // histogram {request}
	Users           = "lab_users"                     // gauge
	TargetUsers     = "lab_target_users"              // gauge
	TargetRate      = "lab_target_rate"               // gauge
	ArrivalsDue     = "lab_arrivals_due_total"        // counter
	InFlight        = "lab_in_flight"                 // gauge
	GeneratorLagP99 = "lab_generator_lag_p99_seconds" // gauge
	Workers         = "lab_workers"                   // gauge
	BudgetOK        = "lab_budget_ok"                 // gauge {subject, budget}: 1 holds, 0 fails
	BudgetSeconds   = "lab_budget_seconds"            // gauge {subject, budget}
	Memory          = "lab_sut_memory_bytes"          // gauge
	MemoryTrend     = "lab_sut_memory_trend_bytes"    // gauge
	LeakBudget      = "lab_leak_budget_bytes"         // gauge
)

// All lists every name above, in their order.
func All() []string {
	return []string{RunInfo, Requests, Failures, Response, Users, TargetUsers, TargetRate, ArrivalsDue,
		InFlight, GeneratorLagP99, Workers, BudgetOK, BudgetSeconds, Memory, MemoryTrend, LeakBudget}
}
