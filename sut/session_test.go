package sut

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// send serves one request with headers (name, value, name, value, …).
func send(h http.Handler, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

const formType = "application/x-www-form-urlencoded"

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

// setCookies are the response's Set-Cookie headers by cookie name.
func setCookies(t testing.TB, w *httptest.ResponseRecorder) map[string]*http.Cookie {
	t.Helper()
	out := map[string]*http.Cookie{}
	for _, c := range w.Result().Cookies() {
		if out[c.Name] != nil {
			t.Errorf("cookie %s set twice: %q", c.Name, w.Header().Values("Set-Cookie"))
		}
		out[c.Name] = c
	}
	return out
}

var formTokenRE = regexp.MustCompile(`<input type="hidden" name="csrfmiddlewaretoken" value="([^"]*)">`)

// loginForm GETs /login and returns the CSRF token, checking that the
// cookie and the form carry the same one.
func loginForm(t testing.TB, h http.Handler) string {
	t.Helper()
	w := send(h, "GET", "/login", "")
	if w.Code != 200 {
		t.Fatalf("GET /login: %d %s", w.Code, w.Body)
	}
	c := setCookies(t, w)[csrfCookie]
	m := formTokenRE.FindStringSubmatch(w.Body.String())
	if c == nil || m == nil || c.Value != m[1] {
		t.Fatalf("GET /login: cookie %v and form token %q differ or are missing", c, m)
	}
	return c.Value
}

// login logs user in with a fresh CSRF token and returns its session id.
func login(t testing.TB, h http.Handler, user string) string {
	t.Helper()
	token := loginForm(t, h)
	form := url.Values{"username": {user}, "password": {"secret"}, csrfField: {token}}
	w := send(h, "POST", "/login", form.Encode(), "Content-Type", formType, "Cookie", csrfCookie+"="+token)
	if w.Code != http.StatusFound {
		t.Fatalf("login as %s: %d %s", user, w.Code, w.Body)
	}
	sid := setCookies(t, w)[sessionCookie]
	if sid == nil {
		t.Fatalf("login as %s set no session cookie: %q", user, w.Header().Values("Set-Cookie"))
	}
	return sid.Value
}

func withSession(sid string) []string { return []string{"Cookie", sessionCookie + "=" + sid} }

func TestLoginPage(t *testing.T) {
	s := newTestShop(t, nil)
	w := send(s, "GET", "/login", "")
	body := w.Body.String()
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /login: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, want := range []string{`<form method="post" action="/login">`, `name="username"`, `name="password"`, `type="password"`} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %s:\n%s", want, body)
		}
	}
	m := formTokenRE.FindStringSubmatch(body)
	if m == nil || !tokenRE.MatchString(m[1]) {
		t.Fatalf("no 32-character CSRF token in the form:\n%s", body)
	}
	if got, want := w.Header().Values("Set-Cookie"), []string{"csrftoken=" + m[1] + "; Path=/; SameSite=Lax"}; !equalStrings(got, want) {
		t.Errorf("Set-Cookie %q, want %q", got, want)
	}
	if other := loginForm(t, s); other == m[1] {
		t.Error("two clients without a cookie got the same CSRF token")
	}

	// A well-formed cookie is reused; a malformed one is replaced.
	w = send(s, "GET", "/login", "", "Cookie", "csrftoken="+m[1])
	if c := setCookies(t, w)[csrfCookie]; c == nil || c.Value != m[1] || !strings.Contains(w.Body.String(), `value="`+m[1]+`"`) {
		t.Errorf("a valid csrftoken cookie was not reused: %q", w.Header().Values("Set-Cookie"))
	}
	w = send(s, "GET", "/login", "", "Cookie", "csrftoken=short")
	if c := setCookies(t, w)[csrfCookie]; c == nil || !tokenRE.MatchString(c.Value) {
		t.Errorf("a malformed csrftoken cookie was not replaced: %q", w.Header().Values("Set-Cookie"))
	}

	// next is carried in the form when it is a path on this site.
	if b := send(s, "GET", "/login?next=/cart", "").Body.String(); !strings.Contains(b, `<input type="hidden" name="next" value="/cart">`) {
		t.Errorf("?next=/cart not carried in the form:\n%s", b)
	}
	if b := send(s, "GET", "/login?next=//evil.example/", "").Body.String(); strings.Contains(b, `name="next"`) {
		t.Errorf("an off-site next was carried in the form:\n%s", b)
	}
	if w := send(s, "HEAD", "/login", ""); w.Code != 200 {
		t.Errorf("HEAD /login: %d", w.Code)
	}
}

func equalStrings(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

func TestLoginCSRF(t *testing.T) {
	s := newTestShop(t, nil)
	token, other := loginForm(t, s), loginForm(t, s)
	good := url.Values{"username": {"alice"}, "password": {"secret"}}
	withToken := func(tok string) string {
		f := url.Values{csrfField: {tok}}
		for k, v := range good {
			f[k] = v
		}
		return f.Encode()
	}
	for _, c := range []struct {
		name    string
		body    string
		headers []string
		says    string
	}{
		{"no cookie", withToken(token), nil, "CSRF cookie not set"},
		{"malformed cookie", withToken("abc"), []string{"Cookie", "csrftoken=abc"}, "wrong format"},
		{"no token", good.Encode(), []string{"Cookie", "csrftoken=" + token}, "CSRF token missing"},
		{"other client's token", withToken(other), []string{"Cookie", "csrftoken=" + token}, "CSRF token incorrect"},
		{"header mismatch", good.Encode(), []string{"Cookie", "csrftoken=" + token, "X-CSRFToken", other}, "CSRF token incorrect"},
		// The form field wins over the header, as in Django.
		{"field wrong, header right", withToken(other), []string{"Cookie", "csrftoken=" + token, "X-CSRFToken", token}, "CSRF token incorrect"},
	} {
		w := send(s, "POST", "/login", c.body, append([]string{"Content-Type", formType}, c.headers...)...)
		e := decode[errorBody](t, w)
		if w.Code != http.StatusForbidden || !strings.Contains(e.Error, c.says) {
			t.Errorf("%s: %d %s, want 403 saying %q", c.name, w.Code, w.Body, c.says)
		}
		if setCookies(t, w)[sessionCookie] != nil {
			t.Errorf("%s: a session cookie was set", c.name)
		}
	}
	m := scrape(t, s)
	if v := m.value(`shop_logins_total{result="csrf"}`); v != 6 {
		t.Errorf(`shop_logins_total{result="csrf"} = %v, want 6`, v)
	}
	if v := m.value(`shop_logins_total{result="ok"}`); v != 0 {
		t.Errorf(`shop_logins_total{result="ok"} = %v after refused logins`, v)
	}
	if v := m.value(MetricSessions); v != 0 {
		t.Errorf("%s = %v after refused logins", MetricSessions, v)
	}

	// The header alone passes the check.
	w := send(s, "POST", "/login", good.Encode(), "Content-Type", formType, "Cookie", "csrftoken="+token, "X-CSRFToken", token)
	if w.Code != http.StatusFound {
		t.Errorf("login with X-CSRFToken: %d %s", w.Code, w.Body)
	}
	// Not a form: 415, before any CSRF verdict.
	w = send(s, "POST", "/login", `{"username":"alice"}`, "Content-Type", "application/json", "Cookie", "csrftoken="+token)
	if w.Code != http.StatusUnsupportedMediaType || !strings.Contains(w.Body.String(), "x-www-form-urlencoded") {
		t.Errorf("JSON login: %d %s, want 415", w.Code, w.Body)
	}
}

func TestLoginBadCredentials(t *testing.T) {
	s := newTestShop(t, nil)
	token := loginForm(t, s)
	cases := []url.Values{
		{"username": {"alice"}, "password": {"Secret"}},
		{"username": {"alice"}},
		{"username": {"al ice"}, "password": {"secret"}},
		{"username": {strings.Repeat("a", 65)}, "password": {"secret"}},
		{"username": {""}, "password": {"secret"}},
		{"username": {"<script>"}, "password": {"secret"}},
	}
	for _, f := range cases {
		f.Set(csrfField, token)
		w := send(s, "POST", "/login", f.Encode(), "Content-Type", formType, "Cookie", "csrftoken="+token)
		body := w.Body.String()
		if w.Code != 200 || !strings.Contains(body, "Please enter a correct username and password") ||
			!strings.Contains(body, `<form method="post" action="/login">`) {
			t.Errorf("bad credentials %v: %d, want 200 with the form again and the error:\n%s", f, w.Code, body)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("the username was not escaped in the form:\n%s", body)
		}
		cookies := setCookies(t, w)
		if cookies[sessionCookie] != nil || cookies[csrfCookie] == nil || cookies[csrfCookie].Value != token {
			t.Errorf("bad credentials %v: cookies %q, want the same csrftoken and no session", f, w.Header().Values("Set-Cookie"))
		}
	}
	if v := scrape(t, s).value(`shop_logins_total{result="bad_credentials"}`); v != float64(len(cases)) {
		t.Errorf(`shop_logins_total{result="bad_credentials"} = %v, want %d`, v, len(cases))
	}
}

func TestLoginSuccess(t *testing.T) {
	s := newTestShop(t, nil)
	token := loginForm(t, s)
	post := func(path string, f url.Values) *httptest.ResponseRecorder {
		f.Set("username", "bob@example.com")
		f.Set("password", "secret")
		f.Set(csrfField, token)
		return send(s, "POST", path, f.Encode(), "Content-Type", formType, "Cookie", "csrftoken="+token)
	}
	w := post("/login", url.Values{})
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/account" {
		t.Fatalf("login: %d Location %q, want 302 to /account", w.Code, w.Header().Get("Location"))
	}
	sc := w.Header().Values("Set-Cookie")
	if len(sc) != 2 {
		t.Fatalf("login set %d cookies, want sessionid and a new csrftoken: %q", len(sc), sc)
	}
	c := setCookies(t, w)
	sid, csrf := c[sessionCookie], c[csrfCookie]
	if sid == nil || csrf == nil {
		t.Fatalf("Set-Cookie %q lacks sessionid or csrftoken", sc)
	}
	if want := "sessionid=" + sid.Value + "; Path=/; HttpOnly; SameSite=Lax"; !contains(sc, want) || !tokenRE.MatchString(sid.Value) {
		t.Errorf("Set-Cookie %q, want %q with a 32-character id", sc, want)
	}
	if want := "csrftoken=" + csrf.Value + "; Path=/; SameSite=Lax"; !contains(sc, want) || !tokenRE.MatchString(csrf.Value) || csrf.Value == token {
		t.Errorf("Set-Cookie %q, want a rotated csrftoken (was %s)", sc, token)
	}
	if sid.Value == csrf.Value {
		t.Error("the session id is the CSRF token")
	}

	for _, c := range []struct{ next, want string }{
		{"/cart/3?x=1", "/cart/3?x=1"},
		{"/", "/"},
		{"//evil.example/", "/account"},
		{"https://evil.example/", "/account"},
		{"/\\evil.example", "/account"},
		{"account", "/account"},
		{"/a\r\nSet-Cookie: x=1", "/account"},
	} {
		w := post("/login", url.Values{"next": {c.next}})
		if w.Code != http.StatusFound || w.Header().Get("Location") != c.want {
			t.Errorf("next=%q: %d Location %q, want 302 to %q", c.next, w.Code, w.Header().Get("Location"), c.want)
		}
	}
	// next on the URL, as the redirect from /account leaves it.
	if w := post("/login?next=/products", url.Values{}); w.Header().Get("Location") != "/products" {
		t.Errorf("?next=/products on the POST: Location %q", w.Header().Get("Location"))
	}
}

func TestAccount(t *testing.T) {
	s := newTestShop(t, nil)
	for _, headers := range [][]string{nil, withSession("nosuchsession0000000000000000000"), withSession("x"), {"Cookie", "sessionid="}} {
		w := send(s, "GET", "/account", "", headers...)
		if w.Code != http.StatusFound || w.Header().Get("Location") != "/login?next=/account" {
			t.Errorf("GET /account with %q: %d Location %q, want 302 to /login?next=/account", headers, w.Code, w.Header().Get("Location"))
		}
	}

	sid := login(t, s, "carol")
	account := func(sid string) accountJSON {
		t.Helper()
		w := send(s, "GET", "/account", "", withSession(sid)...)
		if w.Code != 200 {
			t.Fatalf("GET /account with a session: %d %s", w.Code, w.Body)
		}
		return decode[accountJSON](t, w)
	}
	if a := account(sid); a != (accountJSON{User: "carol", Session: sid, Logins: 1, Requests: 1}) {
		t.Errorf("first GET /account: %+v", a)
	}
	// Any route counts, whatever its answer.
	send(s, "GET", "/products/1", "", withSession(sid)...)
	send(s, "GET", "/nope", "", withSession(sid)...)
	send(s, "GET", "/healthz", "", "Cookie", "a=b; sessionid="+sid+"; c=d")
	if a := account(sid); a.Requests != 5 {
		t.Errorf("after 5 requests with the session, requests = %d", a.Requests)
	}
	// A second login of the same user is a second session; both see 2 logins.
	sid2 := login(t, s, "carol")
	if sid2 == sid {
		t.Fatal("two logins got the same session id")
	}
	if a, b := account(sid), account(sid2); a.Logins != 2 || b.Logins != 2 || b.Requests != 1 || a.Requests != 6 {
		t.Errorf("after a second login: first %+v, second %+v", a, b)
	}
	if a := account(login(t, s, "dave")); a.User != "dave" || a.Logins != 1 {
		t.Errorf("another user: %+v", a)
	}
}

// TestLoginEndsTheRequestsSession: a login from a client that already has a
// session starts a fresh one, so an old id cannot be fixed on a victim.
func TestLoginEndsTheRequestsSession(t *testing.T) {
	s := newTestShop(t, nil)
	old := login(t, s, "erin")
	token := loginForm(t, s)
	f := url.Values{"username": {"erin"}, "password": {"secret"}, csrfField: {token}}
	w := send(s, "POST", "/login", f.Encode(), "Content-Type", formType, "Cookie", "csrftoken="+token+"; sessionid="+old)
	fresh := setCookies(t, w)[sessionCookie]
	if w.Code != http.StatusFound || fresh == nil || fresh.Value == old {
		t.Fatalf("login over a session: %d %q", w.Code, w.Header().Values("Set-Cookie"))
	}
	if w := send(s, "GET", "/account", "", withSession(old)...); w.Code != http.StatusFound {
		t.Errorf("the old session still answers: %d", w.Code)
	}
	if v := scrape(t, s).value(MetricSessions); v != 1 {
		t.Errorf("%s = %v, want 1", MetricSessions, v)
	}
}

func TestLogout(t *testing.T) {
	s := newTestShop(t, nil)
	sid := login(t, s, "frank")
	token := loginForm(t, s)
	cookie := "csrftoken=" + token + "; sessionid=" + sid

	if w := send(s, "POST", "/logout", "", "Cookie", cookie); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "CSRF token missing") {
		t.Errorf("logout without a token: %d %s, want 403", w.Code, w.Body)
	}
	if w := send(s, "POST", "/logout", "", "Cookie", "sessionid="+sid, "X-CSRFToken", token); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "CSRF cookie not set") {
		t.Errorf("logout without the csrftoken cookie: %d %s, want 403", w.Code, w.Body)
	}
	if w := send(s, "POST", "/logout", "", "Cookie", "csrftoken="+token, "X-CSRFToken", token); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "no valid session") {
		t.Errorf("logout without a session: %d %s, want 403", w.Code, w.Body)
	}
	if w := send(s, "GET", "/account", "", withSession(sid)...); w.Code != 200 {
		t.Fatalf("a refused logout ended the session: %d", w.Code)
	}

	w := send(s, "POST", "/logout", url.Values{csrfField: {token}}.Encode(), "Content-Type", formType, "Cookie", cookie)
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/login" {
		t.Fatalf("logout: %d Location %q, want 302 to /login", w.Code, w.Header().Get("Location"))
	}
	if c := setCookies(t, w)[sessionCookie]; c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("logout did not delete the session cookie: %q", w.Header().Values("Set-Cookie"))
	}
	if w := send(s, "GET", "/account", "", withSession(sid)...); w.Code != http.StatusFound {
		t.Errorf("GET /account after logout: %d, want 302", w.Code)
	}
	if v := scrape(t, s).value(MetricSessions); v != 0 {
		t.Errorf("%s = %v after the only session logged out", MetricSessions, v)
	}
	// The header works as well as the field.
	sid = login(t, s, "frank")
	if w := send(s, "POST", "/logout", "", "Cookie", "csrftoken="+token+"; sessionid="+sid, "X-CSRFToken", token); w.Code != http.StatusFound {
		t.Errorf("logout with X-CSRFToken: %d %s", w.Code, w.Body)
	}
}

func TestSessionCart(t *testing.T) {
	s := newTestShop(t, func(k *Knobs) { k.Products = 45 })
	price := func(id int) Money { return s.catalog.products[id-1].Price }
	a, b := login(t, s, "ann"), login(t, s, "ben")
	cartOf := func(sid, body string) cartJSON {
		t.Helper()
		w := send(s, "POST", "/cart", body, withSession(sid)...)
		if w.Code != 200 {
			t.Fatalf("POST /cart %s: %d %s", body, w.Code, w.Body)
		}
		return decode[cartJSON](t, w)
	}
	if w := send(s, "GET", "/cart", "", withSession(a)...); w.Code != 404 || !strings.Contains(w.Body.String(), "no open cart") {
		t.Errorf("GET /cart before any POST: %d %s, want 404", w.Code, w.Body)
	}
	a1 := cartOf(a, `{"product_id": 1, "qty": 2}`)
	b1 := cartOf(b, `{"product_id": 3}`)
	a2 := cartOf(a, `{"product_id": 2}`)
	a3 := cartOf(a, `{}`)
	if a1.CartID != a2.CartID || a2.CartID != a3.CartID || a1.CartID == b1.CartID {
		t.Fatalf("cart ids: ann %d, %d, %d; ben %d — want one cart per session", a1.CartID, a2.CartID, a3.CartID, b1.CartID)
	}
	ga := decode[cartJSON](t, send(s, "GET", "/cart", "", withSession(a)...))
	gb := decode[cartJSON](t, send(s, "GET", "/cart", "", withSession(b)...))
	if len(ga.Items) != 2 || ga.Total != 2*price(1)+price(2) || len(gb.Items) != 1 || gb.Total != price(3) {
		t.Errorf("GET /cart: ann %+v, ben %+v", ga, gb)
	}
	// The session's cart is an ordinary cart to the id API.
	if g := decode[cartJSON](t, do(s, "GET", "/cart/"+strconv.FormatInt(ga.CartID, 10), "")); g.Total != ga.Total {
		t.Errorf("GET /cart/{id} of a session cart: %+v", g)
	}
	// An explicit cart_id still wins over the session's cart.
	if c := cartOf(a, fmt.Sprintf(`{"cart_id": %d, "product_id": 4}`, b1.CartID)); c.CartID != b1.CartID {
		t.Errorf("cart_id %d with ann's session went to cart %d", b1.CartID, c.CartID)
	}

	// Checkout with a session: no body, or {}, checks out the session's cart.
	w := send(s, "POST", "/checkout", "", withSession(a)...)
	o := decode[map[string]any](t, w)
	if w.Code != 200 || o["order_id"] == nil || o["total"] != float64(ga.Total)/100 {
		t.Fatalf("session checkout: %d %s, want an order of %d cents", w.Code, w.Body, ga.Total)
	}
	if w := send(s, "GET", "/cart", "", withSession(a)...); w.Code != 404 {
		t.Errorf("GET /cart after checkout: %d, want 404", w.Code)
	}
	if w := send(s, "POST", "/checkout", `{}`, withSession(a)...); w.Code != 404 {
		t.Errorf("second session checkout: %d %s, want 404", w.Code, w.Body)
	}
	if c := cartOf(a, `{"product_id": 5}`); c.CartID == a1.CartID || len(c.Items) != 1 {
		t.Errorf("after checkout a new cart opens: %+v", c)
	}
	if w := send(s, "POST", "/checkout", `{}`, withSession(b)...); w.Code != 200 {
		t.Errorf("ben's checkout: %d %s", w.Code, w.Body)
	}

	// Without a session, nothing changed.
	x, y := decode[cartJSON](t, do(s, "POST", "/cart", `{}`)), decode[cartJSON](t, do(s, "POST", "/cart", `{}`))
	if x.CartID == y.CartID {
		t.Error("POST /cart {} without a session reused a cart")
	}
	for _, headers := range [][]string{nil, withSession("nosuchsession0000000000000000000")} {
		if w := send(s, "GET", "/cart", "", headers...); w.Code != 405 || w.Header().Get("Allow") != "POST" {
			t.Errorf("GET /cart with %q: %d Allow %q, want 405 as before", headers, w.Code, w.Header().Get("Allow"))
		}
		if w := send(s, "POST", "/checkout", `{}`, headers...); w.Code != 400 || !strings.Contains(w.Body.String(), "cart_id is missing") {
			t.Errorf("POST /checkout {} with %q: %d %s, want 400 as before", headers, w.Code, w.Body)
		}
		if w := send(s, "POST", "/checkout", "", headers...); w.Code != 400 || !strings.Contains(w.Body.String(), "empty body") {
			t.Errorf("POST /checkout with no body and %q: %d %s, want 400 as before", headers, w.Code, w.Body)
		}
	}
}

// TestNewRoutesIgnoreFaults: the login, upload and echo routes answer under
// error_rate 1, while the shop routes fail for sessions too.
func TestNewRoutesIgnoreFaults(t *testing.T) {
	s := newTestShop(t, func(k *Knobs) { k.ErrorRate = 1; k.Latency = 10 * time.Minute })
	sid := login(t, s, "gail")
	if w := send(s, "GET", "/account", "", withSession(sid)...); w.Code != 200 {
		t.Errorf("GET /account under error_rate 1: %d", w.Code)
	}
	if w := send(s, "POST", "/echo", "x"); w.Code != 200 {
		t.Errorf("POST /echo under error_rate 1: %d", w.Code)
	}
	if w := send(s, "GET", "/cart", "", withSession(sid)...); w.Code != 404 {
		t.Errorf("GET /cart with a session under error_rate 1: %d, want 404 (no cart)", w.Code)
	}
	if w := send(s, "POST", "/cart", `{}`, withSession(sid)...); w.Code != 500 {
		t.Errorf("POST /cart with a session under error_rate 1: %d, want the injected 500", w.Code)
	}
	// route_latency still knows only the six shop routes.
	for _, r := range []string{"GET /login", "POST /login", "GET /account", "POST /upload", "GET /cart"} {
		k := DefaultKnobs()
		k.RouteLatency = map[string]time.Duration{r: time.Millisecond}
		if err := k.Validate(); err == nil || !strings.Contains(err.Error(), "unknown route") {
			t.Errorf("route_latency %q: %v, want unknown route", r, err)
		}
	}
	if len(Routes) != 6 {
		t.Errorf("Routes = %q, want the six shop routes", Routes)
	}
}

func TestNewRoutesWrongMethod(t *testing.T) {
	s := newTestShop(t, nil)
	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/logout", "POST"},
		{"DELETE", "/login", "GET, HEAD, POST"},
		{"POST", "/account", "GET, HEAD"},
		{"GET", "/upload", "POST"},
		{"PUT", "/echo", "POST"},
	} {
		w := send(s, c.method, c.path, "")
		if w.Code != 405 || w.Header().Get("Allow") != c.allow || decode[errorBody](t, w).Error == "" {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", c.method, c.path, w.Code, w.Header().Get("Allow"), c.allow)
		}
	}
	if w := send(s, "GET", "/admin/sessions", "", "Authorization", "Bearer x"); w.Code != 404 {
		t.Errorf("GET /admin/sessions without an admin token set: %d, want 404", w.Code)
	}
}

func TestSessionMetrics(t *testing.T) {
	s := newTestShop(t, nil)
	sid := login(t, s, "hana")
	login(t, s, "ivan")
	send(s, "GET", "/account", "", withSession(sid)...)
	send(s, "GET", "/products/1", "", withSession(sid)...)
	send(s, "GET", "/products/1", "", withSession("nosuchsession0000000000000000000")...)
	m := scrape(t, s)
	for series, want := range map[string]float64{
		`shop_logins_total{result="ok"}`:                            2,
		`shop_logins_total{result="bad_credentials"}`:               0,
		`shop_logins_total{result="csrf"}`:                          0,
		MetricSessions:                                              2,
		MetricSessionReqs:                                           2,
		`shop_http_requests_total{code="302",route="POST /login"}`:  2,
		`shop_http_requests_total{code="200",route="GET /login"}`:   2,
		`shop_http_requests_total{code="200",route="GET /account"}`: 1,
	} {
		if got := m.value(series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

func TestAdminSessions(t *testing.T) {
	s := newTestShop(t, func(k *Knobs) { k.AdminToken = testToken })
	a := login(t, s, "jo")
	login(t, s, "jo")
	b := login(t, s, "kim")
	send(s, "GET", "/products/2", "", withSession(b)...)
	send(s, "GET", "/products/2", "", withSession(b)...)

	for _, auth := range []string{"", "Bearer wrong", testToken} {
		w := send(s, "GET", "/admin/sessions", "", "Authorization", auth)
		if w.Code != 401 || strings.Contains(w.Body.String(), a) {
			t.Errorf("GET /admin/sessions with Authorization %q: %d, want 401 and no sessions", auth, w.Code)
		}
	}
	if w := send(s, "DELETE", "/admin/sessions", "", "Authorization", "Bearer "+testToken); w.Code != 405 {
		t.Errorf("DELETE /admin/sessions: %d, want 405", w.Code)
	}
	w := send(s, "GET", "/admin/sessions", "", "Authorization", "Bearer "+testToken)
	got := decode[adminSessionsJSON](t, w)
	if w.Code != 200 || got.Active != 3 || len(got.Sessions) != 3 {
		t.Fatalf("GET /admin/sessions: %d %s", w.Code, w.Body)
	}
	if got.Logins["jo"] != 2 || got.Logins["kim"] != 1 || len(got.Logins) != 2 {
		t.Errorf("logins %v, want jo 2, kim 1", got.Logins)
	}
	first, last := got.Sessions[0], got.Sessions[2]
	if first.Session != a || first.User != "jo" || first.Requests != 0 || last.Session != b || last.User != "kim" || last.Requests != 2 {
		t.Errorf("sessions in creation order: %+v", got.Sessions)
	}
	if time.Since(first.Created) > time.Minute || first.Created.After(last.Created) {
		t.Errorf("created times %v, %v", first.Created, last.Created)
	}
	var raw map[string][]map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &raw)
	for _, key := range []string{"session", "user", "requests", "created"} {
		if _, ok := raw["sessions"][0][key]; !ok {
			t.Errorf("a session in /admin/sessions has no %q: %s", key, w.Body)
		}
	}
}

func TestSessionCaps(t *testing.T) {
	var st sessionStore
	st.init()
	var first, kept, next string
	for i := range maxSessions + 500 {
		id := st.create("u").id
		switch i {
		case 0:
			first = id
		case 500:
			kept = id
		case 501:
			next = id
		}
	}
	if n := st.active.Load(); n != maxSessions {
		t.Fatalf("%d sessions active, want the cap %d", n, maxSessions)
	}
	if st.get(first) != nil || st.get(kept) == nil {
		t.Error("the oldest sessions should be the ones forgotten")
	}
	n := 0
	for i := range st.shards {
		n += len(st.shards[i].m)
	}
	if n != maxSessions {
		t.Errorf("the shards hold %d sessions, want %d", n, maxSessions)
	}
	// A logged-out session's slot is harmless when the cap comes round to
	// it: nothing else is forgotten.
	st.end(kept)
	st.create("u")
	if st.active.Load() != maxSessions || st.get(next) == nil {
		t.Errorf("%d active after a logout and a login at the cap, want %d and the next oldest kept", st.active.Load(), maxSessions)
	}

	for i := range maxLoginCounts + 10 {
		st.countLogin("user" + strconv.Itoa(i))
	}
	if got := st.countLogin("user" + strconv.Itoa(maxLoginCounts+5)); got != 2 {
		t.Errorf("a recent user's second login counted %d", got)
	}
	if len(st.logins) != maxLoginCounts || st.loginCount("user0") != 0 || st.loginCount("user20") != 1 {
		t.Errorf("%d login counts kept (user0 %d), want the cap %d with the oldest forgotten",
			len(st.logins), st.loginCount("user0"), maxLoginCounts)
	}
}

// TestLoginWithACookieJar: a stock net/http client with a cookie jar, like
// lab's workloads, goes through the whole flow over a real connection.
func TestLoginWithACookieJar(t *testing.T) {
	s := newTestShop(t, nil)
	srv := httptest.NewServer(s)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	// /account redirects to the form, which carries next.
	resp, page := get("/account")
	if resp.Request.URL.Path != "/login" || resp.Request.URL.Query().Get("next") != "/account" {
		t.Fatalf("GET /account without a session ended at %s", resp.Request.URL)
	}
	m := formTokenRE.FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `name="next" value="/account"`) {
		t.Fatalf("login form:\n%s", page)
	}
	resp, err := client.PostForm(srv.URL+"/login", url.Values{
		"username": {"lee"}, "password": {"secret"}, csrfField: {m[1]}, "next": {"/account"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var a accountJSON
	err = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if err != nil || resp.Request.URL.Path != "/account" || a.User != "lee" || a.Requests != 1 {
		t.Fatalf("after login the client is at %s with %+v (%v)", resp.Request.URL, a, err)
	}

	// The jar now holds the rotated token; logout with it.
	var token string
	for _, c := range jar.Cookies(resp.Request.URL) {
		if c.Name == csrfCookie {
			token = c.Value
		}
	}
	if token == m[1] || token == "" {
		t.Fatalf("the jar's csrftoken %q was not rotated", token)
	}
	resp, err = client.PostForm(srv.URL+"/logout", url.Values{csrfField: {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/login" {
		t.Fatalf("logout ended at %s with %d", resp.Request.URL, resp.StatusCode)
	}
	for _, c := range jar.Cookies(resp.Request.URL) {
		if c.Name == sessionCookie {
			t.Errorf("the jar kept the session cookie after logout")
		}
	}
	if resp, _ := get("/account"); resp.Request.URL.Path != "/login" {
		t.Errorf("GET /account after logout ended at %s", resp.Request.URL)
	}
}

// TestSessionConcurrency: one session's racing requests share one cart and
// are all counted; logins racing with them and with the admin view are safe
// (run with -race).
func TestSessionConcurrency(t *testing.T) {
	s := newTestShop(t, func(k *Knobs) { k.AdminToken = testToken })
	sid := login(t, s, "nina")
	const workers, each = 8, 25
	var wg sync.WaitGroup
	ids := make(chan int64, workers*each)
	for i := range workers {
		wg.Go(func() {
			for range each {
				w := send(s, "POST", "/cart", `{"product_id": 1}`, withSession(sid)...)
				ids <- decode[cartJSON](t, w).CartID
			}
		})
		wg.Go(func() {
			login(t, s, fmt.Sprint("racer", i))
			send(s, "GET", "/admin/sessions", "", "Authorization", "Bearer "+testToken)
		})
	}
	wg.Wait()
	close(ids)
	first := <-ids
	for id := range ids {
		if id != first {
			t.Fatalf("one session's racing POST /cart opened carts %d and %d", first, id)
		}
	}
	c := decode[cartJSON](t, send(s, "GET", "/cart", "", withSession(sid)...))
	if len(c.Items) != 1 || c.Items[0].Qty != workers*each {
		t.Errorf("cart %+v, want product 1 × %d", c, workers*each)
	}
	if a := decode[accountJSON](t, send(s, "GET", "/account", "", withSession(sid)...)); a.Requests != workers*each+2 {
		t.Errorf("requests = %d, want %d", a.Requests, workers*each+2)
	}
}
