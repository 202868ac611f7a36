package e2e

import (
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/sut"
)

// shopGauge reads one unlabelled series off the shop's /metrics.
func shopGauge(t *testing.T, host, name string) float64 {
	t.Helper()
	return shopMetric(t, host, name+" ", "")
}

// Issue 20, item 12: a batch's steps are sent at once. One user loads a
// page whose three requests form a batch, against the shop answering in
// 30 ms: the shop saw three requests at once (one user sends one at a
// time otherwise), the checkout after the batch used the cart the batch
// created (every order placed), and lab's counts are the shop's.
func TestShopBatch(t *testing.T) {
	t.Parallel()
	host := clitest.Shop(t, func(k *sut.Knobs) { k.Latency = 30 * time.Millisecond })
	dir := t.TempDir()
	code, out, errs := lab(t, nil, "apply", "e2e/testdata/plans/shop-batch.hcl", "-var", "host="+host, "-var", "duration=3s",
		"--results", dir, "--quiet", "--metrics", "off")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	_, run := clitest.LatestRun(t, dir)
	if peak := shopGauge(t, host, sut.MetricInFlightPeak); peak != 3 {
		t.Errorf("the shop answered at most %v requests at once, want the batch's 3", peak)
	}
	for _, c := range []struct{ name, route string }{
		{"GET /", "GET /"}, {"GET /products", "GET /products"}, {"GET /products/:id", "GET /products/{id}"},
		{"POST /cart", "POST /cart"}, {"POST /checkout", "POST /checkout"},
	} {
		q := run.RequestByName(c.name)
		if q == nil || q.Count == 0 || q.Failures != 0 || int64(shopRouteCount(t, host, c.route)) != q.Count {
			t.Errorf("%s: lab %+v, the shop answered %d", c.name, q, shopRouteCount(t, host, c.route))
		}
	}
	// The last pass may end with its cart: the run ended before its checkout.
	orders, carts := int64(shopGauge(t, host, sut.MetricOrders)), run.RequestByName("POST /cart").Count
	if checkouts := run.RequestByName("POST /checkout"); checkouts == nil || orders != checkouts.Count || orders < carts-1 {
		t.Errorf("%d orders for %d carts", orders, carts)
	}
}
