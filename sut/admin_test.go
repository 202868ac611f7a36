package sut

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testToken = "s3cret-token-for-tests"

func adminDo(h http.Handler, method, auth, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/admin/knobs", strings.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestAdminAbsentWithoutToken(t *testing.T) {
	s := newTestShop(t, nil)
	for _, m := range []string{"GET", "PUT", "POST"} {
		if w := adminDo(s, m, "Bearer anything", `{"error_rate": 1}`); w.Code != http.StatusNotFound {
			t.Errorf("%s /admin/knobs without a configured token: %d, want 404", m, w.Code)
		}
	}
	if s.Knobs().ErrorRate != 0 {
		t.Error("a knob changed through an absent admin endpoint")
	}
}

func TestAdminRefusesWrongTokens(t *testing.T) {
	s := newTestShop(t, func(k *Knobs) { k.AdminToken = testToken })
	for _, auth := range []string{
		"",                                       // missing
		"Bearer ",                                // empty
		"Bearer wrong-token-entirely",            // wrong
		"Bearer " + testToken + "x",              // longer
		"Bearer " + testToken[:len(testToken)-1], // prefix
		"Basic " + testToken,                     // wrong scheme
		testToken,                                // no scheme
	} {
		for _, m := range []string{"GET", "PUT", "POST"} {
			w := adminDo(s, m, auth, `{"error_rate": 1}`)
			if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s with Authorization %q: %d, want 401 with WWW-Authenticate", m, auth, w.Code)
			}
		}
	}
	if s.Knobs().ErrorRate != 0 {
		t.Error("an unauthorised request changed a knob")
	}
}

func TestAdminChangesKnobs(t *testing.T) {
	s := newTestShop(t, func(k *Knobs) { k.AdminToken = testToken })
	auth := "Bearer " + testToken

	w := adminDo(s, "GET", auth, "")
	got := decode[map[string]any](t, w)
	if w.Code != 200 || got["error_rate"] != 0.0 || got["latency"] != "0s" || got["products"] != 500.0 {
		t.Fatalf("GET /admin/knobs: %d %v", w.Code, got)
	}
	if _, shown := got["admin_token"]; shown || strings.Contains(w.Body.String(), testToken) {
		t.Error("GET /admin/knobs shows the token")
	}

	w = adminDo(s, "PUT", auth, `{"error_rate": 1, "latency": "15ms", "route_latency": {"POST /checkout": "40ms"}, "leak_per_request": 1024}`)
	if w.Code != 200 {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	k := s.Knobs()
	if k.ErrorRate != 1 || k.Latency != 15*time.Millisecond || k.RouteLatency["POST /checkout"] != 40*time.Millisecond || k.LeakPerRequest != 1024 {
		t.Fatalf("knobs after PUT: %+v", k)
	}
	if k.TailFactor != 10 || k.Products != 500 {
		t.Errorf("fields the PUT did not carry changed: %+v", k)
	}
	// The change takes effect and shows on /metrics.
	if w := do(s, "GET", "/products/1", ""); w.Code != 500 {
		t.Errorf("after error_rate 1: GET answered %d", w.Code)
	}
	if v := scrape(t, s).value(`shop_knob{knob="error_rate"}`); v != 1 {
		t.Errorf("shop_knob{knob=\"error_rate\"} = %v after the change, want 1", v)
	}

	// POST works the same; {} clears the route map.
	if w := adminDo(s, "POST", auth, `{"error_rate": 0, "route_latency": {}}`); w.Code != 200 {
		t.Fatalf("POST: %d %s", w.Code, w.Body)
	}
	if k := s.Knobs(); k.ErrorRate != 0 || len(k.RouteLatency) != 0 {
		t.Errorf("after POST: %+v", k)
	}

	// Bad changes are refused whole, with every reason.
	before := s.Knobs()
	for _, c := range []struct{ body, says string }{
		{`{"error_rate": 1.5}`, "error_rate"},
		{`{"latency": "soon"}`, "not a duration"},
		{`{"latency": 20}`, "wrong type"},
		{`{"route_latency": {"GET /nope": "1ms"}}`, "unknown route"},
		{`{"seed": 9}`, "seed cannot change"},
		{`{"products": 9}`, "products cannot change"},
		{`{"admin_token": "another-token"}`, "admin_token cannot change"},
		{`{"error_rate": 0.5, "tail_factor": 0.5}`, "tail_factor"},
		{`{"colour": "red"}`, "unknown field"},
		{``, "empty body"},
	} {
		w := adminDo(s, "PUT", auth, c.body)
		if w.Code != 400 || !strings.Contains(w.Body.String(), c.says) {
			t.Errorf("PUT %s: %d %s, want 400 saying %q", c.body, w.Code, w.Body, c.says)
		}
	}
	if after := s.Knobs(); after.ErrorRate != before.ErrorRate || after.TailFactor != before.TailFactor {
		t.Errorf("a refused change changed knobs: %+v → %+v", before, after)
	}
}
