package result

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"

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
	return decodeAs(s, LowestUS, HighestUS, SigFigs)
}

// A measure's histogram holds thousandths of its values (a measure may be
// 0.5 items or 3 GB): 0.001 to 10¹² at three significant digits.
const (
	MeasureScale   = 1000
	measureLowest  = 1
	measureHighest = 1_000_000_000_000_000
)

// NewMeasureHist returns an empty histogram of a measure's values, in
// thousandths (MeasureScale).
func NewMeasureHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(measureLowest, measureHighest, SigFigs)
}

// DecodeMeasure reads an encoded measure histogram, checking its geometry.
func DecodeMeasure(s string) (*hdrhistogram.Histogram, error) {
	return decodeAs(s, measureLowest, measureHighest, SigFigs)
}

// ClampMeasure is a measure's value in the histogram's units and range.
func ClampMeasure(v float64) int64 {
	return int64(min(max(v*MeasureScale, measureLowest), measureHighest))
}

func decodeAs(s string, lo, hi int64, sig int32) (*hdrhistogram.Histogram, error) {
	if s == "" {
		return hdrhistogram.New(lo, hi, int(sig)), nil
	}
	if err := checkGeometry(s, lo, hi, sig); err != nil {
		return nil, err
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decoding histogram: %w", err)
	}
	if h.LowestTrackableValue() != lo || h.HighestTrackableValue() != hi || h.SignificantFigures() != int64(sig) {
		return nil, fmt.Errorf("histogram geometry %d…%d/%d, want %d…%d/%d",
			h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures(), lo, hi, sig)
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

// checkGeometry reads an encoded histogram's header before
// hdrhistogram.Decode does: Decode allocates the counts of whatever
// geometry the header states (gigabytes for 1…2⁶²/5 digits), so a crafted
// result.json could exhaust memory before the geometry is checked.
func checkGeometry(s string, wantLo, wantHi int64, wantSig int32) error {
	// 8 bytes of cookie and length, then zlib: the first 4096 base64
	// characters hold far more than the zlib header and the 40-byte
	// histogram header need, so only they are decoded here.
	head := s
	if len(head) > 4096 {
		head = head[:4096]
	}
	raw, err := base64.StdEncoding.DecodeString(head[:len(head)/4*4])
	if err != nil || len(raw) < 8 {
		return fmt.Errorf("decoding histogram: not a compressed HdrHistogram")
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return fmt.Errorf("decoding histogram: %w", err)
	}
	var hdr [40]byte
	if _, err := io.ReadFull(z, hdr[:]); err != nil {
		return fmt.Errorf("decoding histogram: header cut short")
	}
	sig := int32(binary.BigEndian.Uint32(hdr[12:16]))
	lo := int64(binary.BigEndian.Uint64(hdr[16:24]))
	hi := int64(binary.BigEndian.Uint64(hdr[24:32]))
	if lo != wantLo || hi != wantHi || sig != wantSig {
		return fmt.Errorf("histogram geometry %d…%d/%d, want %d…%d/%d", lo, hi, sig, wantLo, wantHi, wantSig)
	}
	return nil
}
