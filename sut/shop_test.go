package sut

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// newTestShop builds a shop from the defaults changed by edit.
func newTestShop(t testing.TB, edit func(*Knobs)) *Shop {
	t.Helper()
	k := DefaultKnobs()
	k.Listen = "127.0.0.1:0"
	if edit != nil {
		edit(&k)
	}
	s, err := New(k)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// do serves one request straight through the handler.
func do(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q is not the JSON expected: %v", w.Body.String(), err)
	}
	return v
}

// openCart opens a cart holding qty of product and returns its id.
func openCart(t testing.TB, h http.Handler, product, qty int) int64 {
	t.Helper()
	w := do(h, "POST", "/cart", fmt.Sprintf(`{"product_id": %d, "qty": %d}`, product, qty))
	if w.Code != http.StatusOK {
		t.Fatalf("POST /cart: %d %s", w.Code, w.Body)
	}
	return decode[cartJSON](t, w).CartID
}

func TestRoutes(t *testing.T) {
	s := newTestShop(t, func(k *Knobs) { k.Products = 45 })
	p7 := s.catalog.products[6]

	t.Run("home", func(t *testing.T) {
		w := do(s, "GET", "/", "")
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("GET /: %d %q", w.Code, w.Header().Get("Content-Type"))
		}
		if !strings.Contains(w.Body.String(), `href="/products/1"`) {
			t.Errorf("home page links no product: %s", w.Body)
		}
	})
	t.Run("product", func(t *testing.T) {
		w := do(s, "GET", "/products/7", "")
		got := decode[map[string]any](t, w)
		if w.Code != 200 || got["id"] != 7.0 || got["name"] != p7.Name || got["price"] != float64(p7.Price)/100 {
			t.Fatalf("GET /products/7: %d %v, want product %+v", w.Code, got, p7)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if n, _ := strconv.Atoi(w.Header().Get("Content-Length")); n != w.Body.Len() {
			t.Errorf("Content-Length %d, body %d bytes", n, w.Body.Len())
		}
	})
	t.Run("pages", func(t *testing.T) {
		seen := map[int]bool{}
		for page := 1; page <= 3; page++ {
			w := do(s, "GET", "/products?page="+strconv.Itoa(page), "")
			pg := decode[struct {
				Page, Total, Pages int
				Products           []struct{ ID int }
			}](t, w)
			if w.Code != 200 || pg.Page != page || pg.Total != 45 || pg.Pages != 3 {
				t.Fatalf("page %d: %d %+v", page, w.Code, pg)
			}
			for _, p := range pg.Products {
				seen[p.ID] = true
			}
		}
		if len(seen) != 45 || !seen[1] || !seen[45] {
			t.Errorf("three pages hold %d distinct products, want ids 1..45", len(seen))
		}
		first := do(s, "GET", "/products", "").Body.String()
		if first != do(s, "GET", "/products?page=1", "").Body.String() {
			t.Error("GET /products is not page 1")
		}
		w := do(s, "GET", "/products?page=99", "")
		if w.Code != 200 || len(decode[struct{ Products []any }](t, w).Products) != 0 {
			t.Errorf("page past the end: %d %s, want 200 and no products", w.Code, w.Body)
		}
	})
	t.Run("cart and checkout", func(t *testing.T) {
		id := openCart(t, s, 7, 2)
		w := do(s, "POST", "/cart", fmt.Sprintf(`{"cart_id": %d, "product_id": 3}`, id))
		if w.Code != 200 {
			t.Fatalf("adding to cart: %d %s", w.Code, w.Body)
		}
		want := 2*p7.Price + s.catalog.products[2].Price
		c := decode[cartJSON](t, do(s, "GET", "/cart/"+strconv.FormatInt(id, 10), ""))
		if c.CartID != id || len(c.Items) != 2 || c.Total != want {
			t.Fatalf("GET /cart/%d = %+v, want 2 lines totalling %d cents", id, c, want)
		}
		w = do(s, "POST", "/checkout", fmt.Sprintf(`{"cart_id": %d}`, id))
		o := decode[map[string]any](t, w)
		if w.Code != 200 || o["order_id"] == nil || o["total"] != float64(want)/100 {
			t.Fatalf("checkout: %d %v, want an order of %d cents", w.Code, o, want)
		}
		if w := do(s, "POST", "/checkout", fmt.Sprintf(`{"cart_id": %d}`, id)); w.Code != 404 {
			t.Errorf("second checkout of the same cart: %d, want 404", w.Code)
		}
		if w := do(s, "GET", "/cart/"+strconv.FormatInt(id, 10), ""); w.Code != 404 {
			t.Errorf("a checked-out cart is still open: %d", w.Code)
		}
	})
	t.Run("empty cart", func(t *testing.T) {
		w := do(s, "POST", "/cart", `{}`)
		id := decode[cartJSON](t, w).CartID
		if w.Code != 200 || id == 0 {
			t.Fatalf("opening an empty cart: %d %s", w.Code, w.Body)
		}
		if w := do(s, "POST", "/checkout", fmt.Sprintf(`{"cart_id": %d}`, id)); w.Code != 409 {
			t.Errorf("checking out an empty cart: %d %s, want 409", w.Code, w.Body)
		}
	})
	t.Run("healthz", func(t *testing.T) {
		if w := do(s, "GET", "/healthz", ""); w.Code != 200 || w.Body.String() != `{"status":"ok"}` {
			t.Errorf("GET /healthz: %d %s", w.Code, w.Body)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		w := do(s, "GET", "/metrics", "")
		if w.Code != 200 || !strings.Contains(w.Body.String(), "shop_http_requests_total") {
			t.Errorf("GET /metrics: %d, no request counter", w.Code)
		}
	})
	t.Run("HEAD is GET without a body", func(t *testing.T) {
		srv := httptest.NewServer(s)
		defer srv.Close()
		resp, err := http.Head(srv.URL + "/products/7")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ContentLength != int64(len(s.catalog.item[6])) {
			t.Errorf("HEAD /products/7: %d, length %d", resp.StatusCode, resp.ContentLength)
		}
	})
}

// TestBadInput: every malformed request gets the right 4xx and a JSON error
// that says what is wrong.
func TestBadInput(t *testing.T) {
	s := newTestShop(t, func(k *Knobs) { k.Products = 45 })
	cart := openCart(t, s, 1, 1)
	big := `{"product_id": 1, "qty": 1, "pad": "` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		method, path, body string
		code               int
		says               string
	}{
		{"GET", "/products/0", "", 404, "no product 0"},
		{"GET", "/products/46", "", 404, "no product 46"},
		{"GET", "/products/99999999999999999999", "", 400, "positive integer"},
		{"GET", "/products/abc", "", 400, "positive integer"},
		{"GET", "/products/-1", "", 400, "positive integer"},
		{"GET", "/products/1.5", "", 400, "positive integer"},
		{"GET", "/products/1/x", "", 400, "positive integer"},
		{"GET", "/products?page=0", "", 400, "page must be a positive integer"},
		{"GET", "/products?page=x", "", 400, "page must be a positive integer"},
		{"GET", "/cart/abc", "", 400, "positive integer"},
		{"GET", "/cart/987654", "", 404, "no open cart"},
		{"POST", "/cart", "", 400, "empty body"},
		{"POST", "/cart", `[1]`, 400, "JSON object"},
		{"POST", "/cart", `{"product_id": 1`, 400, "not valid JSON"},
		{"POST", "/cart", `{"product_id": "1"}`, 400, `"product_id" has the wrong type`},
		{"POST", "/cart", `{"product_id": 1.5}`, 400, "wrong type"},
		{"POST", "/cart", `{"product_id": 1, "colour": "red"}`, 400, "unknown field"},
		{"POST", "/cart", `{"product_id": 1} {}`, 400, "data after"},
		{"POST", "/cart", `{"product_id": 0}`, 400, "positive integer"},
		{"POST", "/cart", `{"product_id": 46}`, 404, "no product 46"},
		{"POST", "/cart", `{"product_id": 1, "qty": 0}`, 400, "qty must be"},
		{"POST", "/cart", `{"product_id": 1, "qty": 1001}`, 400, "qty must be"},
		{"POST", "/cart", `{"qty": 2}`, 400, "without product_id"},
		{"POST", "/cart", `{"cart_id": 555555, "product_id": 1}`, 404, "no open cart"},
		{"POST", "/cart", big, 400, "larger than"},
		{"POST", "/cart", fmt.Sprintf(`{"cart_id": %d, "product_id": 1, "qty": 1000}`, cart), 409, "more than 1000"},
		{"POST", "/checkout", `{}`, 400, "cart_id is missing"},
		{"POST", "/checkout", `null`, 400, "JSON object"},
		{"POST", "/checkout", `{"cart_id": -3}`, 404, "no open cart"},
		{"POST", "/checkout", `{"cart_id": 424242}`, 404, "no open cart"},
		{"DELETE", "/cart", "", 405, "not allowed"},
		{"GET", "/checkout", "", 405, "not allowed"},
		{"POST", "/products/1", "", 405, "not allowed"},
		{"GET", "/admin/knobs", "", 404, "no route"},
		{"GET", "/nope", "", 404, "no route"},
		{"GET", "/products/", "", 404, "no route"},
	}
	for _, c := range cases {
		w := do(s, c.method, c.path, c.body)
		body := w.Body.String()
		var e errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != c.code || !strings.Contains(e.Error, c.says) {
			t.Errorf("%s %s %.60q: %d %s, want %d and an error saying %q", c.method, c.path, c.body, w.Code, truncate(body, 200), c.code, c.says)
		}
	}
}

func TestCatalogueFollowsSeed(t *testing.T) {
	a, b := newCatalog(7, 100), newCatalog(7, 100)
	c := newCatalog(8, 100)
	for i := range a.item {
		if string(a.item[i]) != string(b.item[i]) {
			t.Fatalf("same seed, product %d differs", i+1)
		}
	}
	differ := 0
	for i := range a.item {
		if string(a.item[i]) != string(c.item[i]) {
			differ++
		}
	}
	if differ < 90 {
		t.Errorf("seeds 7 and 8 share %d of 100 products", 100-differ)
	}
}

func TestOpenCartsAreBounded(t *testing.T) {
	var cs cartStore
	cs.init()
	for range maxOpenCarts + 500 {
		cs.create()
	}
	if n := cs.open.Load(); n != maxOpenCarts {
		t.Fatalf("%d carts open, want the cap %d", n, maxOpenCarts)
	}
	if cs.get(1) != nil || cs.get(500) != nil || cs.get(501) == nil {
		t.Error("the oldest carts should be the ones forgotten")
	}
}

// FuzzShop: nothing a client sends crashes the shop or gets a non-JSON error.
func FuzzShop(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"GET", "/products/1", ""},
		{"POST", "/cart", `{"product_id": 1, "qty": 2}`},
		{"POST", "/cart", `{"cart_id": 1, "product_id": 9223372036854775807}`},
		{"POST", "/checkout", `{"cart_id": 1}`},
		{"GET", "/products?page=2&page=-1", ""},
		{"PUT", "/admin/knobs", `{"latency": "1ms"}`},
		{"GET", "/cart/1", ""},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	// The admin endpoint is on but the fuzzer has no token: it must only
	// ever get 401s there, never change a knob.
	s := newTestShop(f, func(k *Knobs) { k.Products = 30; k.AdminToken = "fuzz-token-1" })
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#") {
			return // net/http would refuse these before the shop sees them
		}
		r, err := http.NewRequest(method, "http://shop"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code >= 400 && w.Code != 500 {
			var e errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %s: %d with a body that is no JSON error: %q", method, path, w.Code, w.Body)
			}
		}
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s (no fault knob is on)", method, path, body, w.Code, w.Body)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
