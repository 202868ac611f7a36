package metrics

import "strings"

// Classes are the values of lab_failures_total's class label.
var Classes = []string{"timeout", "connect", "status", "check", "cut_off", "other"}

// Class sorts a failure reason (runtime's bounded reasons: see
// errorReason and check in runtime/http.go) into lab_failures_total's
// class label: timeout, connect, status, check, cut_off or other. Reasons
// carry request-specific text; classes keep the label bounded.
func Class(reason string) string {
	switch {
	case strings.HasPrefix(reason, "cut off"):
		return "cut_off"
	case strings.Contains(reason, "connect"), strings.HasPrefix(reason, "no free connection"):
		return "connect"
	case strings.Contains(reason, "timeout"):
		return "timeout"
	case strings.HasPrefix(reason, "HTTP "), strings.HasPrefix(reason, "status "):
		return "status"
	case reason == "other", strings.HasPrefix(reason, "error: "), strings.HasPrefix(reason, "request not built"):
		return "other"
	}
	// Expectations and captures: body lacks …, json …, slower than …, a
	// capture's error.
	return "check"
}
