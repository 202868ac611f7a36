package lang

import "strconv"

// trimFloat prints a float without trailing zeros: 0.5, 10, 0.002.
func trimFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
