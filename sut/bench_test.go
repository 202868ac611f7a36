package sut

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the shop, not a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkProduct is the handler's own cost for GET /products/{id} with
// every knob off (bench/shop.sh measures it over HTTP).
func BenchmarkProduct(b *testing.B) {
	s := newTestShop(b, nil)
	reqs := make([]*http.Request, 500)
	for i := range reqs {
		reqs[i] = httptest.NewRequest("GET", "/products/"+strconv.Itoa(i+1), nil)
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.ServeHTTP(w, reqs[i%len(reqs)])
	}
}
