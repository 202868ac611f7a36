package stats

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

// twoSamples decodes fuzz bytes into two small samples of coarse values
// (int8/4, so ties are common).
func twoSamples(data []byte) (x, y []float64) {
	if len(data) == 0 {
		return nil, nil
	}
	split := int(data[0]) % (len(data))
	for i, b := range data[1:] {
		v := float64(int8(b)) / 4
		if i < split {
			x = append(x, v)
		} else {
			y = append(y, v)
		}
	}
	return x, y
}

// FuzzHodgesLehmann checks the fast median of differences against brute
// force, and that Mann–Whitney never panics and returns a probability.
func FuzzHodgesLehmann(f *testing.F) {
	f.Add([]byte{3, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Add([]byte{5, 255, 128, 127, 1, 0, 200, 9, 9, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		x, y := twoSamples(data)
		got, err := HodgesLehmann(x, y)
		if len(x) == 0 || len(y) == 0 {
			if err == nil {
				t.Fatal("empty sample: no error")
			}
			return
		}
		var d []float64
		for _, a := range x {
			for _, b := range y {
				d = append(d, a-b)
			}
		}
		slices.Sort(d)
		if want := medianSorted(d); got != want {
			t.Fatalf("HL(%v, %v) = %v, brute force %v", x, y, got, want)
		}
		mw, err := MannWhitney(x, y)
		if err != nil || math.IsNaN(mw.P) || mw.P < 0 || mw.P > 1 {
			t.Fatalf("MannWhitney(%v, %v) = %+v, %v", x, y, mw, err)
		}
	})
}

// FuzzTrend feeds arbitrary floats (NaN and ±Inf included) to the trend
// functions: an error or a result in range, never a panic.
func FuzzTrend(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 240, 63, 0, 0, 0, 0, 0, 0, 0, 64})
	f.Fuzz(func(t *testing.T, data []byte) {
		var y []float64
		for len(data) >= 8 && len(y) < 40 {
			y = append(y, math.Float64frombits(binary.LittleEndian.Uint64(data)))
			data = data[8:]
		}
		x := make([]float64, len(y))
		for i := range x {
			x[i] = float64(i)
		}
		if r, err := MannKendall(y); err == nil && (r.P < 0 || r.P > 1 || math.IsNaN(r.P)) {
			t.Fatalf("MannKendall(%v) p = %v", y, r.P)
		}
		if b, err := SenBounds(x, y, 0.99); err == nil && b.Lower > b.Upper {
			t.Fatalf("SenBounds(%v) = %+v", y, b)
		}
		if f, err := LeastSquares(x, y); err == nil && len(y) >= 3 && !(f.P >= 0 && f.P <= 1) {
			t.Fatalf("LeastSquares(%v) = %+v", y, f)
		}
		TheilSen(x, y)
		Median(y)
		MAD(y)
	})
}
