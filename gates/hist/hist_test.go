package hist

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"lab/runtime/needs"
	"lab/runtime/result"
)

var percentiles = []float64{0, 0.1, 1, 25, 50, 66.6, 90, 95, 99, 99.9, 99.99, 100}

// randomDense records n values from one of a few latency shapes.
func randomDense(rng *rand.Rand, n int) *hdrhistogram.Histogram {
	h := result.NewHist()
	shape := rng.IntN(4)
	for range n {
		var v float64
		switch shape {
		case 0: // lognormal around 5 ms
			v = math.Exp(math.Log(5000) + 0.5*rng.NormFloat64())
		case 1: // tight: a sleep-based shop
			v = 2000 + 300*rng.Float64()
		case 2: // bimodal with a 10× tail
			v = 800 + 200*rng.Float64()
			if rng.IntN(20) == 0 {
				v *= 10
			}
		default: // the whole range, timeouts clamped to 60 s
			v = math.Exp(rng.Float64() * math.Log(90e6))
		}
		h.RecordValue(result.ClampUS(int64(v)))
	}
	return h
}

func encode(t testing.TB, h *hdrhistogram.Histogram) string {
	s, err := result.Encode(h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func check(t *testing.T, what string, want *hdrhistogram.Histogram, total int64, at func(float64) int64, maxV int64) {
	t.Helper()
	if total != want.TotalCount() {
		t.Fatalf("%s: total %d, want %d", what, total, want.TotalCount())
	}
	for _, p := range percentiles {
		if got, w := at(p), want.ValueAtPercentile(p); got != w {
			t.Fatalf("%s: p%v = %d, hdrhistogram says %d", what, p, got, w)
		}
	}
	if want.TotalCount() > 0 && maxV != want.Max() {
		t.Fatalf("%s: max %d, want %d", what, maxV, want.Max())
	}
}

// Decoding, single and merged, answers exactly what hdrhistogram answers.
func TestMatchesHdrHistogram(t *testing.T) {
	needs.NoRace(t, "a single-goroutine simulation")
	rng := rand.New(rand.NewPCG(7, 11))
	var d Decoder
	var acc Acc
	for trial := range 300 {
		k := 1 + rng.IntN(6)
		merged := result.NewHist()
		var sparse Hist
		acc.Reset()
		for range k {
			dense := randomDense(rng, rng.IntN(3000))
			s := encode(t, dense)
			var h Hist
			if err := d.Decode(s, &h); err != nil {
				t.Fatal(err)
			}
			check(t, "decoded", dense, h.TotalCount(), h.ValueAtPercentile, h.Max())
			if h.TotalCount() > 0 && h.Min() != dense.Min() {
				t.Fatalf("min %d, want %d", h.Min(), dense.Min())
			}
			if h.TotalCount() > 0 && math.Abs(h.Mean()-dense.Mean()) > 1e-6*dense.Mean() {
				t.Fatalf("mean %v, want %v", h.Mean(), dense.Mean())
			}
			if err := d.AddTo(s, &acc); err != nil {
				t.Fatal(err)
			}
			sparse.Add(&h)
			merged.Merge(dense)
		}
		check(t, "sparse merge", merged, sparse.TotalCount(), sparse.ValueAtPercentile, sparse.Max())
		check(t, "dense merge", merged, acc.TotalCount(), acc.ValueAtPercentile, acc.Max())
		back := acc.Hist()
		check(t, "acc.Hist", merged, back.TotalCount(), back.ValueAtPercentile, back.Max())
		_ = trial
	}
}

// RecordValues places values in the same buckets as hdrhistogram.
func TestRecordValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dense := result.NewHist()
	var h Hist
	for range 5000 {
		v := result.ClampUS(int64(math.Exp(rng.Float64() * math.Log(70e6))))
		n := 1 + rng.Int64N(3)
		dense.RecordValues(v, n)
		h.RecordValues(v, n)
	}
	check(t, "recorded", dense, h.TotalCount(), h.ValueAtPercentile, h.Max())
}

func TestEmpty(t *testing.T) {
	var d Decoder
	var h Hist
	if err := d.Decode("", &h); err != nil || h.TotalCount() != 0 || h.ValueAtPercentile(95) != 0 || h.Max() != 0 {
		t.Fatalf("empty string: %v %+v", err, h)
	}
	var a Acc
	if a.ValueAtPercentile(50) != 0 || a.Max() != 0 {
		t.Fatal("empty accumulator has values")
	}
	a.Reset() // on a zero Acc
	s := encode(t, result.NewHist())
	if err := d.AddTo(s, &a); err != nil || a.TotalCount() != 0 {
		t.Fatalf("encoded empty: %v", err)
	}
}

// Bad input is an error, never a panic, and leaves an accumulator as it was.
func TestBadInput(t *testing.T) {
	var d Decoder
	var h Hist
	other := hdrhistogram.New(1, 1000, 2)
	other.RecordValue(5)
	b, _ := other.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	good := result.NewHist()
	good.RecordValue(1234)
	goodS := encode(t, good)
	cases := map[string]string{
		"not base64":   "%%%",
		"short":        "AAAA",
		"wrong cookie": "AAAAAAAAAAAAAAAA",
		"geometry":     string(b),
		"truncated":    goodS[:len(goodS)-8],
		"garbage zlib": goodS[:12] + strings.Repeat("A", len(goodS)-12),
	}
	for name, s := range cases {
		if err := d.Decode(s, &h); err == nil {
			t.Errorf("%s: no error", name)
		}
		var a Acc
		_ = d.AddTo(goodS, &a)
		if err := d.AddTo(s, &a); err == nil {
			t.Errorf("%s: AddTo took it", name)
		}
		if a.TotalCount() != 1 || a.ValueAtPercentile(50) != good.ValueAtPercentile(50) {
			t.Errorf("%s: a failed AddTo changed the accumulator", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	h := result.NewHist()
	h.RecordValue(1500)
	h.RecordValue(25_000)
	s, _ := result.Encode(h)
	f.Add(s)
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		var d Decoder
		var h Hist
		var a Acc
		err1 := d.Decode(s, &h)
		err2 := d.AddTo(s, &a)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("Decode %v, AddTo %v", err1, err2)
		}
		if err1 == nil && (h.TotalCount() != a.TotalCount() || h.ValueAtPercentile(95) != a.ValueAtPercentile(95)) {
			t.Fatal("sparse and dense disagree")
		}
	})
}

func sampleEncoded(b testing.TB, n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	h := result.NewHist()
	for range n {
		h.RecordValue(int64(math.Exp(math.Log(5000) + 0.4*rng.NormFloat64())))
	}
	return encode(b, h)
}

func BenchmarkDecode(b *testing.B) {
	s := sampleEncoded(b, 1000, 1)
	var d Decoder
	var h Hist
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(s, &h)
		_ = h.ValueAtPercentile(95)
	}
}

func BenchmarkAddTo(b *testing.B) {
	s := sampleEncoded(b, 1000, 1)
	var d Decoder
	var a Acc
	b.ReportAllocs()
	for b.Loop() {
		d.AddTo(s, &a)
	}
	_ = a.ValueAtPercentile(95)
}

func BenchmarkHdrDecode(b *testing.B) {
	s := sampleEncoded(b, 1000, 1)
	b.ReportAllocs()
	for b.Loop() {
		h, _ := result.Decode(s)
		_ = h.ValueAtPercentile(95)
	}
}

func TestCountAbove(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var d Decoder
	for range 50 {
		dense := randomDense(rng, 1+rng.IntN(2000))
		var a Acc
		var h Hist
		if err := d.AddTo(encode(t, dense), &a); err != nil {
			t.Fatal(err)
		}
		if err := d.Decode(encode(t, dense), &h); err != nil {
			t.Fatal(err)
		}
		for _, v := range []int64{-5, 0, 1, 999, 2500, 5000, 123456, 60_000_000, 90_000_000} {
			var want int64
			for _, b := range dense.Distribution() {
				if b.From > v {
					want += b.Count
				}
			}
			if got := a.CountAbove(v); got != want {
				t.Fatalf("above %d: %d, want %d", v, got, want)
			}
			if got := h.CountAbove(v); got != want {
				t.Fatalf("sparse, above %d: %d, want %d", v, got, want)
			}
		}
		// Consistent with the percentiles: the p-th percentile is above v
		// exactly when more than n − rank values are.
		v := a.ValueAtPercentile(90)
		if a.CountAbove(v) >= a.TotalCount()-percentileRank(90, a.TotalCount())+1 {
			t.Fatalf("p90 %d, yet %d of %d values above it", v, a.CountAbove(v), a.TotalCount())
		}
	}
}
