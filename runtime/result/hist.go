package result

import (
	"fmt"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The histogram geometry every part of lab uses, so that histograms from
// different windows and workers merge losslessly.
const (
	LowestUS  = 1          // 1 µs
	HighestUS = 60_000_000 // 60 s
	SigFigs   = 3
)

// NewHist returns an empty latency histogram in microseconds.
func NewHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(LowestUS, HighestUS, SigFigs)
}

// Encode returns h in HdrHistogram's compressed V2 form, base64 encoded.
func Encode(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Decode reads an encoded histogram and checks its geometry, so a merge is
// never lossy.
func Decode(s string) (*hdrhistogram.Histogram, error) {
	if s == "" {
		return NewHist(), nil
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decoding histogram: %w", err)
	}
	if h.LowestTrackableValue() != LowestUS || h.HighestTrackableValue() != HighestUS || h.SignificantFigures() != SigFigs {
		return nil, fmt.Errorf("histogram geometry %d…%d/%d, want %d…%d/%d",
			h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures(), LowestUS, HighestUS, SigFigs)
	}
	return h, nil
}

// Merge adds from into into and fails if any value was dropped.
func Merge(into, from *hdrhistogram.Histogram) error {
	if dropped := into.Merge(from); dropped != 0 {
		return fmt.Errorf("histogram merge dropped %d values", dropped)
	}
	return nil
}

// ClampUS keeps a latency within the histogram's range: a value beyond 60 s
// is recorded as 60 s rather than lost.
func ClampUS(us int64) int64 {
	if us < LowestUS {
		return LowestUS
	}
	if us > HighestUS {
		return HighestUS
	}
	return us
}

// Summarize reads a histogram's figures.
func Summarize(h *hdrhistogram.Histogram) Summary {
	if h.TotalCount() == 0 {
		return Summary{}
	}
	return Summary{
		Count: h.TotalCount(), Min: h.Min(), Mean: h.Mean(),
		P50: h.ValueAtPercentile(50), P90: h.ValueAtPercentile(90), P95: h.ValueAtPercentile(95),
		P99: h.ValueAtPercentile(99), P999: h.ValueAtPercentile(99.9), Max: h.Max(),
	}
}
