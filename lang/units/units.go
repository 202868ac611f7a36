// Package units parses and prints the plan language's units: durations,
// sizes, rates and ratios. It is the one parser for each (docs/DESIGN.md, "Units"),
// shared by the plan language, the command line and the shop's flags.
package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Day is the unit `d` that the plan language adds to Go's durations.
const Day = 24 * time.Hour

// ParseDuration reads a Go duration with `d` (days) added: "250ms", "2m",
// "1h30m", "1d12h". Negative durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New(`empty duration; write one like "30s", "2m" or "1h30m"`)
	}
	if in == "0" {
		return 0, nil
	}
	if _, err := strconv.ParseFloat(in, 64); err == nil {
		return 0, fmt.Errorf("%q has no unit; write %q or %q", in, in+"s", in+"ms")
	}
	var days time.Duration
	if i := strings.IndexByte(in, 'd'); i >= 0 {
		n, err := strconv.ParseFloat(in[:i], 64)
		if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) || n > 106_000 {
			return 0, fmt.Errorf("invalid duration %q; write one like \"1d\", \"2h30m\" or \"250ms\"", in)
		}
		days = time.Duration(n * float64(Day))
		in = in[i+1:]
		if in == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(in)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q; write one like \"30s\", \"2m\", \"1h30m\" or \"1d\"", strings.TrimSpace(s))
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", strings.TrimSpace(s))
	}
	if days > 0 && d > math.MaxInt64-days {
		return 0, fmt.Errorf("duration %q is too long", strings.TrimSpace(s))
	}
	return days + d, nil
}

// FormatDuration prints d in the shortest form ParseDuration reads back:
// "250ms", "2m", "1h30m", "1d2h".
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	if d < time.Second {
		return b.String() + strings.TrimSuffix(d.String(), "0s")
	}
	if days := d / Day; days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * Day
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		d -= m * time.Minute
	}
	if d > 0 {
		secs := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
		b.WriteString(secs + "s")
	}
	return b.String()
}

var sizeUnits = []struct {
	name string
	mult float64
}{
	// Longest first so "KiB" is not read as "B" after "Ki".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"b", 1},
}

// ParseSize reads a size: "50KB", "5MiB", "1.5GB", "512B". KB/MB/GB/TB are
// 1000-based, KiB/MiB/GiB/TiB 1024-based; the unit's case does not matter.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	num, unit := splitNumber(in)
	if num == "" {
		return 0, fmt.Errorf("invalid size %q; write one like \"50KB\", \"5MiB\" or \"512B\"", in)
	}
	if unit == "" {
		if v, err := strconv.ParseFloat(num, 64); err == nil && v == 0 {
			return 0, nil // nothing needs no unit, as a duration of 0 does not
		}
		return 0, fmt.Errorf("size %q has no unit; write %q (bytes) or %q", in, num+"B", num+"KB")
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q; write one like \"50KB\", \"5MiB\" or \"512B\"", in)
	}
	lu := strings.ToLower(strings.TrimSpace(unit))
	for _, u := range sizeUnits {
		if lu == u.name {
			v := n * u.mult
			if v > math.MaxInt64/2 {
				return 0, fmt.Errorf("size %q is too large", in)
			}
			return int64(math.Round(v)), nil
		}
	}
	return 0, fmt.Errorf("unknown size unit %q in %q; use B, KB, MB, GB (1000-based) or KiB, MiB, GiB (1024-based)", unit, in)
}

// FormatSize prints n bytes with the largest unit that keeps it exact in the
// family it is a multiple of: 51200 → "50KiB", 50000 → "50KB", 123 → "123B".
// Where both families are exact at one prefix, the 1000-based unit wins:
// 256000 is "256KB" as written, not "250KiB".
func FormatSize(n int64) string {
	if n == 0 {
		return "0B"
	}
	type u struct {
		name string
		mult int64
	}
	for _, c := range []u{{"TB", 1e12}, {"TiB", 1 << 40}, {"GB", 1e9}, {"GiB", 1 << 30}, {"MB", 1e6}, {"MiB", 1 << 20}, {"KB", 1e3}, {"KiB", 1 << 10}} {
		if n%c.mult == 0 {
			return strconv.FormatInt(n/c.mult, 10) + c.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// FormatSignedSize prints an approximate byte count, such as a growth, with
// its sign (− is U+2212) as FormatApproxSize prints its size: "+50.1KB"
// with sep "", "−3.2 MB" with " ". NaN is "?".
func FormatSignedSize(v float64, sep string) string {
	if math.IsNaN(v) {
		return "?"
	}
	sign := "+"
	if v < 0 {
		sign = "−"
	}
	return sign + FormatApproxSize(math.Abs(v), sep)
}

// FormatLatency prints a latency given in microseconds the one way every
// table, chart and verdict of lab prints it: three significant digits and
// the unit, no space: "850µs", "5.43ms", "61.2ms", "1.23s"; "–" for NaN.
func FormatLatency(us float64) string {
	switch a := math.Abs(us); {
	case math.IsNaN(us):
		return "–"
	case a >= 999_500: // 999.6ms is 1s at three digits
		return sig3(us/1e6) + "s"
	case a >= 999.5:
		return sig3(us/1e3) + "ms"
	}
	return strconv.FormatFloat(math.Round(us), 'f', -1, 64) + "µs"
}

// sig3 prints v to three significant digits, without trailing zeros
// (1234 stays 1234, 12.0 is 12).
func sig3(v float64) string {
	if v == 0 {
		return "0"
	}
	digits := max(0, 2-int(math.Floor(math.Log10(math.Abs(v)))))
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// FormatApproxSize prints bytes to a tenth of a 1000-based unit (a
// hundredth of a GB), sep between number and unit: "50.1KB", "3.2 MB".
func FormatApproxSize(v float64, sep string) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return fmt.Sprintf("%.2f%sGB", v/1e9, sep)
	case a >= 1e6:
		return fmt.Sprintf("%.1f%sMB", v/1e6, sep)
	case a >= 1e3:
		return fmt.Sprintf("%.1f%sKB", v/1e3, sep)
	}
	return fmt.Sprintf("%.0f%sB", v, sep)
}

var perUnits = map[string]time.Duration{
	"ms": time.Millisecond,
	"s":  time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hour": time.Hour,
	"d": Day, "day": Day,
}

// Rate is an amount per period: 200/s (a count) or 5MB/min (bytes).
type Rate struct {
	Amount float64       // count, or bytes when Bytes is set
	Per    time.Duration // the period after the slash
	Bytes  bool
}

// PerSecond is the rate's amount per second.
func (r Rate) PerSecond() float64 { return r.Amount / r.Per.Seconds() }

// ParseCountRate reads "200/s", "30/min", "1.5/s" and returns events per second.
func ParseCountRate(s string) (float64, error) {
	r, err := parseRate(s)
	if err != nil {
		return 0, err
	}
	if r.Bytes {
		return 0, fmt.Errorf("rate %q is a size per time; a count per time is expected here, like \"200/s\"", strings.TrimSpace(s))
	}
	return r.PerSecond(), nil
}

// ParseByteRate reads "5MB/min", "10KiB/s" and returns bytes per second.
func ParseByteRate(s string) (float64, error) {
	r, err := parseRate(s)
	if err != nil {
		return 0, err
	}
	if !r.Bytes {
		return 0, fmt.Errorf("rate %q has no size unit; write one like \"5MB/min\"", strings.TrimSpace(s))
	}
	return r.PerSecond(), nil
}

func parseRate(s string) (Rate, error) {
	in := strings.TrimSpace(s)
	amount, per, ok := strings.Cut(in, "/")
	if !ok {
		return Rate{}, fmt.Errorf("invalid rate %q; write an amount per time, like \"200/s\" or \"5MB/min\"", in)
	}
	per = strings.TrimSpace(per)
	period, known := perUnits[per]
	if !known {
		// "/10s" is a period with a count in front.
		d, err := ParseDuration(per)
		if err != nil || d <= 0 {
			return Rate{}, fmt.Errorf("invalid period %q in rate %q; use s, min, h or a duration like 10s", per, in)
		}
		period = d
	}
	amount = strings.TrimSpace(amount)
	if n, err := strconv.ParseFloat(amount, 64); err == nil {
		if n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			return Rate{}, fmt.Errorf("invalid rate %q; the amount must be a non-negative number", in)
		}
		return Rate{Amount: n, Per: period}, nil
	}
	b, err := ParseSize(amount)
	if err != nil {
		return Rate{}, fmt.Errorf("invalid rate %q: %v", in, err)
	}
	return Rate{Amount: float64(b), Per: period, Bytes: true}, nil
}

// FormatCountRate prints a count per time as a person writes it: per second
// when that is a short number ("200/s", "0.5/s"), else per minute or hour
// when that is whole ("100/min", "7/h"), else per second to four significant
// digits. ParseCountRate reads every form back.
func FormatCountRate(perSecond float64) string {
	if s, ok := shortNumber(perSecond); ok {
		return s + "/s"
	}
	for _, p := range []struct {
		unit string
		secs float64
	}{{"min", 60}, {"h", 3600}} {
		if s, ok := shortNumber(perSecond * p.secs); ok {
			return s + "/" + p.unit
		}
	}
	return strconv.FormatFloat(perSecond, 'g', 4, 64) + "/s"
}

// FormatByteRate prints bytes per second per minute, the unit budgets use:
// "10MB/min", "1MB/min" (not the 1000000.0000000001B/min that 1e6/60·60
// gives in floating point); a rate no whole number of bytes per minute or
// second expresses is printed to four significant digits ("1.667MB/min").
func FormatByteRate(bytesPerSecond float64) string {
	for _, p := range []struct {
		unit string
		secs float64
	}{{"min", 60}, {"s", 1}} {
		v := bytesPerSecond * p.secs
		if r, ok := nearInt(v); ok && r < math.MaxInt64/2 {
			return FormatSize(int64(r)) + "/" + p.unit
		}
	}
	perMin := bytesPerSecond * 60
	unit, mult := "B", 1.0
	for _, u := range []struct {
		name string
		mult float64
	}{{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}} {
		if math.Abs(perMin) >= u.mult {
			unit, mult = u.name, u.mult
			break
		}
	}
	return strconv.FormatFloat(perMin/mult, 'g', 4, 64) + unit + "/min"
}

// nearInt rounds v when it is a whole number but for floating-point error.
func nearInt(v float64) (float64, bool) {
	r := math.Round(v)
	return r, !math.IsInf(v, 0) && math.Abs(v-r) <= 1e-9*math.Max(1, math.Abs(v))
}

// shortNumber prints v when it has at most three decimals but for
// floating-point error: 0.5 → "0.5", 1.6666… → not short.
func shortNumber(v float64) (string, bool) {
	r, ok := nearInt(v * 1000)
	if !ok {
		return "", false
	}
	return strconv.FormatFloat(r/1000, 'f', -1, 64), true
}

// ParseRatio reads "0.01" or "1%" and returns 0.01. Negative ratios are refused;
// callers bound the top (an error rate stops at 1, a growth may exceed it).
func ParseRatio(s string) (float64, error) {
	in := strings.TrimSpace(s)
	pct := strings.HasSuffix(in, "%")
	num := strings.TrimSpace(strings.TrimSuffix(in, "%"))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("invalid ratio %q; write one like \"1%%\" or 0.01", in)
	}
	if pct {
		v /= 100
	}
	if v < 0 {
		return 0, fmt.Errorf("ratio %q is negative", in)
	}
	return v, nil
}

// FormatRatio prints a ratio as a percentage: 0.01 → "1%", 0.002 → "0.2%".
func FormatRatio(v float64) string {
	if s, ok := shortNumber(v * 100); ok {
		return s + "%"
	}
	return strconv.FormatFloat(v*100, 'g', 4, 64) + "%"
}

// splitNumber splits "50KB" into "50" and "KB".
func splitNumber(s string) (num, unit string) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || (i == 0 && (s[i] == '-' || s[i] == '+'))) {
		i++
	}
	return s[:i], strings.TrimSpace(s[i:])
}
