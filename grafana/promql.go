package grafana

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/prometheus/promql/parser"
)

// RateInterval is Grafana's rate window: 4 scrape intervals at least,
// wider when the panel's step is (ScrapeInterval is told to Grafana).
const RateInterval = "$__rate_interval"

// GrafanaVars are Grafana's built-in variables the queries use, with the
// values Grafana gives them on the dashboard's default range at the
// ScrapeInterval: what Check substitutes before Prometheus's parser reads
// a query, as Grafana does before it sends one.
var GrafanaVars = map[string]string{
	"$__rate_interval": "20s",
	"$__interval":      "5s",
	"$__range":         "15m",
}

// Expand substitutes Grafana's variables in expr, longest name first.
func Expand(expr string, vars map[string]string) string {
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	// Longest first, so $__range is not taken for a prefix of a longer name.
	sortByLengthDesc(names)
	for _, name := range names {
		expr = strings.ReplaceAll(expr, name, vars[name])
	}
	return expr
}

func sortByLengthDesc(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && len(s[j]) > len(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

var promParser = parser.NewParser(parser.Options{})

// Check parses expr, after Grafana's variables are expanded, with
// Prometheus's own PromQL parser.
func Check(expr string) error {
	expanded := Expand(expr, GrafanaVars)
	if strings.Contains(expanded, "$__") {
		return fmt.Errorf("query %q: a Grafana variable Check does not know", expr)
	}
	if _, err := promParser.ParseExpr(expanded); err != nil {
		return fmt.Errorf("query %q does not parse as PromQL: %w", expr, err)
	}
	return nil
}

// CheckQueries checks every panel query of d (Check), naming the panel of
// the first it refuses.
func CheckQueries(d dashboard.Dashboard) error {
	for _, p := range d.Panels {
		if p.Panel == nil {
			continue
		}
		for _, t := range p.Panel.Targets {
			q, ok := t.(prometheus.Dataquery)
			if !ok {
				return fmt.Errorf("panel %q: a query of another datasource than Prometheus", deref(p.Panel.Title))
			}
			if err := Check(q.Expr); err != nil {
				return fmt.Errorf("panel %q: %w", deref(p.Panel.Title), err)
			}
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Queries lists the PromQL of every panel of d, in panel order.
func Queries(d dashboard.Dashboard) []string {
	var out []string
	for _, p := range d.Panels {
		if p.Panel == nil {
			continue
		}
		for _, t := range p.Panel.Targets {
			if q, ok := t.(prometheus.Dataquery); ok {
				out = append(out, q.Expr)
			}
		}
	}
	return out
}

// promString quotes s as a PromQL string literal (Go's escapes are
// PromQL's).
func promString(s string) string {
	return strconv.Quote(s)
}

// regexpQuote escapes s for a PromQL regular expression (RE2, like Go's).
func regexpQuote(s string) string {
	return regexp.QuoteMeta(s)
}
