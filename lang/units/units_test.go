package units

import (
	"math"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "2m", want: 2 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1d", want: 24 * time.Hour},    // the unit lab adds
		{in: "1d12h", want: 36 * time.Hour}, // days then a Go duration
		{in: "1.5d", want: 36 * time.Hour},
		{in: " 10s ", want: 10 * time.Second},
		{in: "0", want: 0},
		{in: "30", bad: true},    // a bare number is ambiguous
		{in: "-1s", bad: true},   // negative
		{in: "1x", bad: true},    // unknown unit
		{in: "", bad: true},      // empty
		{in: "d", bad: true},     // no number
		{in: "1d-1h", bad: true}, // negative tail
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatDurationRoundTrips(t *testing.T) {
	for _, d := range []time.Duration{0, time.Millisecond, 250 * time.Millisecond, 1500 * time.Microsecond,
		time.Second, 90 * time.Second, 2 * time.Minute, 90 * time.Minute, 26 * time.Hour, 2500 * time.Millisecond} {
		s := FormatDuration(d)
		back, err := ParseDuration(s)
		if err != nil || back != d {
			t.Errorf("FormatDuration(%v) = %q, reads back as %v, %v", d, s, back, err)
		}
	}
	if got := FormatDuration(90 * time.Minute); got != "1h30m" {
		t.Errorf("FormatDuration(90m) = %q", got)
	}
	if got := FormatDuration(26 * time.Hour); got != "1d2h" {
		t.Errorf("FormatDuration(26h) = %q", got)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "50KB", want: 50_000},
		{in: "5MiB", want: 5 << 20},
		{in: "1.5GB", want: 1_500_000_000},
		{in: "512B", want: 512},
		{in: "10kib", want: 10 << 10}, // case does not matter
		{in: "0B", want: 0},
		{in: "0", want: 0}, // nothing needs no unit (make leak-test LEAK=0)
		{in: "0.0", want: 0},
		{in: "50", bad: true},   // no unit
		{in: "50XB", bad: true}, // unknown unit
		{in: "-5MB", bad: true}, // negative
		{in: "MB", bad: true},   // no number
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseSize(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, n := range []int64{0, 1, 999, 50_000, 51_200, 5 << 20, 3_000_000_000} {
		back, err := ParseSize(FormatSize(n))
		if err != nil || back != n {
			t.Errorf("FormatSize(%d) = %q reads back as %d, %v", n, FormatSize(n), back, err)
		}
	}
}

// The leak verdict (no space), the leak hunter's reasons and report.html
// (a space) print sizes alike.
func TestFormatSignedSize(t *testing.T) {
	for _, c := range []struct {
		v        float64
		sep, out string
	}{
		{0, "", "+0B"}, {999.4, "", "+999B"}, {50_100, "", "+50.1KB"}, {-3_210_000, "", "−3.2MB"},
		{2.5e9, "", "+2.50GB"}, {-1, " ", "−1 B"}, {312e6, " ", "+312.0 MB"}, {math.NaN(), "", "?"},
	} {
		if got := FormatSignedSize(c.v, c.sep); got != c.out {
			t.Errorf("FormatSignedSize(%v, %q) = %q, want %q", c.v, c.sep, got, c.out)
		}
	}
	for v, want := range map[float64]string{0: "0 B", 50e6: "50.0 MB", 1.5e9: "1.50 GB", -2500: "-2.5 KB"} {
		if got := FormatApproxSize(v, " "); got != want {
			t.Errorf("FormatApproxSize(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestParseRates(t *testing.T) {
	if v, err := ParseCountRate("200/s"); err != nil || v != 200 {
		t.Errorf("200/s = %v, %v", v, err)
	}
	if v, err := ParseCountRate("30/min"); err != nil || v != 0.5 {
		t.Errorf("30/min = %v, %v", v, err)
	}
	if v, err := ParseCountRate("5/10s"); err != nil || v != 0.5 {
		t.Errorf("5/10s = %v, %v", v, err)
	}
	if v, err := ParseByteRate("6MB/min"); err != nil || v != 100_000 {
		t.Errorf("6MB/min = %v, %v", v, err)
	}
	for _, bad := range []string{"200", "200/fortnight", "-1/s", "5MB/min"} {
		if _, err := ParseCountRate(bad); err == nil {
			t.Errorf("ParseCountRate(%q) accepted", bad)
		}
	}
	if _, err := ParseByteRate("200/s"); err == nil {
		t.Error("ParseByteRate accepted a count rate")
	}
	if got := FormatByteRate(100_000); got != "6MB/min" {
		t.Errorf("FormatByteRate = %q", got)
	}
}

func TestParseRatio(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		bad  bool
	}{
		{in: "1%", want: 0.01},
		{in: "0.01", want: 0.01},
		{in: "0.5 %", want: 0.005},
		{in: "150%", want: 1.5},
		{in: "-1%", bad: true},
		{in: "abc", bad: true},
		{in: "%", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseRatio(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseRatio(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got < tt.want-1e-12 || got > tt.want+1e-12 {
			t.Errorf("ParseRatio(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if got := FormatRatio(0.002); got != "0.2%" {
		t.Errorf("FormatRatio(0.002) = %q", got)
	}
}

func FuzzUnits(f *testing.F) {
	for _, s := range []string{"1d12h", "50KB", "5MB/min", "1%", "200/s", "1.5GiB", "9999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDuration(s); err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %v < 0", s, d)
		}
		if n, err := ParseSize(s); err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %v < 0", s, n)
		}
		_, _ = ParseCountRate(s)
		_, _ = ParseByteRate(s)
		if r, err := ParseRatio(s); err == nil && r < 0 {
			t.Fatalf("ParseRatio(%q) = %v < 0", s, r)
		}
	})
}

// Every unit prints as a person writes it and reads back: no
// 1000000.0000000001B/min (a budget of "1MB/min" went through bytes per
// second and back), no 1.6666666666666667/s.
func TestFormatAsWritten(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		parse    func(string) (float64, error)
		format   func(float64) string
	}{
		{"1MB/min", "1MB/min", ParseByteRate, FormatByteRate},
		{"256KB/min", "256KB/min", ParseByteRate, FormatByteRate},
		{"50KiB/min", "50KiB/min", ParseByteRate, FormatByteRate},
		{"7MB/min", "7MB/min", ParseByteRate, FormatByteRate},
		{"10KiB/s", "600KiB/min", ParseByteRate, FormatByteRate},
		{"1B/s", "60B/min", ParseByteRate, FormatByteRate},
		{"1MB/h", "16.67KB/min", ParseByteRate, FormatByteRate},
		{"5GB/day", "3.472MB/min", ParseByteRate, FormatByteRate},
		{"200/s", "200/s", ParseCountRate, FormatCountRate},
		{"30/min", "0.5/s", ParseCountRate, FormatCountRate},
		{"100/min", "100/min", ParseCountRate, FormatCountRate},
		{"7/h", "7/h", ParseCountRate, FormatCountRate},
		{"1/3s", "20/min", ParseCountRate, FormatCountRate},
		{"1/7s", "0.1429/s", ParseCountRate, FormatCountRate},
		{"1%", "1%", ParseRatio, FormatRatio},
		{"0.1%", "0.1%", ParseRatio, FormatRatio},
		{"0.07", "7%", ParseRatio, FormatRatio},
		{"0.333333", "33.33%", ParseRatio, FormatRatio},
	} {
		v, err := tt.parse(tt.in)
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		got := tt.format(v)
		if got != tt.want {
			t.Errorf("%q prints as %q, want %q", tt.in, got, tt.want)
		}
		back, err := tt.parse(got)
		if err != nil || math.Abs(back-v) > 1e-3*math.Abs(v) {
			t.Errorf("%q prints as %q, which reads back as %v (%v), not %v", tt.in, got, back, err, v)
		}
	}
}

// TestFormatLatency: one way to print a latency, three significant digits
// without trailing zeros, the unit stuck to the number.
func TestFormatLatency(t *testing.T) {
	for us, want := range map[float64]string{
		850: "850µs", 999.6: "1ms", 999_700: "1s", 5430: "5.43ms", 12000: "12ms", 61234: "61.2ms",
		412_000: "412ms", 1_234_000: "1.23s", 12_300_000: "12.3s", 0: "0µs", math.NaN(): "–",
	} {
		if got := FormatLatency(us); got != want {
			t.Errorf("FormatLatency(%v) = %q, want %q", us, got, want)
		}
	}
}
