//go:build race

package needs

// Race is set when the tests run under the race detector.
const Race = true
