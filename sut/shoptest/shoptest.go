// Package shoptest serves the bundled shop inside a test, on a free
// loopback port, for the test's lifetime: what the engine, the gates and
// the memory samplers test against, as net/http/httptest serves a handler.
package shoptest

import (
	"context"
	"net"
	"testing"

	"lab/sut"
)

// Start serves a shop with the knobs k (its Listen is ignored) on
// 127.0.0.1 and returns its base URL. The shop stops when the test ends;
// an error from serving fails the test.
func Start(t testing.TB, k sut.Knobs) string {
	t.Helper()
	k.Listen = "127.0.0.1:0"
	shop, err := sut.New(k)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- shop.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("shop: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
