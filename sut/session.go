package sut

import (
	"cmp"
	"crypto/rand"
	"html"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Logins follow Django's pattern, so that a workload written for a real
// Django site (cookie jar, CSRF token scraped from the form, redirect after
// login) works here unchanged. See doc.go, "Logins and sessions".
const (
	csrfCookie     = "csrftoken"
	csrfField      = "csrfmiddlewaretoken"
	csrfHeader     = "X-CSRFToken"
	sessionCookie  = "sessionid"
	tokenLen       = 32
	loginPassword  = "secret" // every well-formed username's password
	maxSessions    = 100_000  // beyond this the oldest session is forgotten
	maxLoginCounts = 100_000  // usernames whose login count is kept
	maxNextLen     = 2000
)

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newToken is 32 random letters and digits from crypto/rand: unguessable,
// like a real shop's, and unrelated to the seed, which decides faults only.
func newToken() string {
	var out [tokenLen]byte
	var buf [2 * tokenLen]byte
	n := 0
	for n < tokenLen {
		rand.Read(buf[:])
		for _, b := range buf {
			// 248 = 4·62: rejecting the rest keeps every character equally likely.
			if b < 248 && n < tokenLen {
				out[n] = tokenAlphabet[b%62]
				n++
			}
		}
	}
	return string(out[:])
}

// wellFormedToken says whether t could be one of newToken's: what a csrftoken
// cookie must be to be reused, and a session id to be looked up.
func wellFormedToken(t string) bool {
	if len(t) != tokenLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

type session struct {
	id      string
	user    string
	created time.Time
	seq     int64 // creation order: what the cap forgets first

	requests atomic.Int64 // requests that carried this session
	cartMu   sync.Mutex   // one cart per session even when its requests race
	cartID   atomic.Int64 // the session's cart; 0 before the first POST /cart
}

// sessionStore holds sessions in shards, like the carts, so requests of
// different sessions rarely share a lock.
type sessionStore struct {
	shards   [64]sessionShard
	active   atomic.Int64
	requests atomic.Int64 // requests that carried a valid session, all sessions

	// order remembers the ids by creation number, so the session to forget
	// at the cap is found in O(1); an id that logged out meanwhile is simply
	// gone already.
	orderMu sync.Mutex
	next    int64
	order   []string

	loginsMu   sync.Mutex
	logins     map[string]int64
	loginOrder []string // usernames in the order first seen, to forget the oldest
	loginNext  int
}

type sessionShard struct {
	mu sync.Mutex
	m  map[string]*session
}

func (st *sessionStore) init() {
	for i := range st.shards {
		st.shards[i].m = make(map[string]*session)
	}
	st.logins = make(map[string]int64)
}

func (st *sessionStore) shard(id string) *sessionShard {
	// Ids are random, so their last bytes spread evenly.
	h := uint(id[len(id)-1]) | uint(id[len(id)-2])<<8
	return &st.shards[h%uint(len(st.shards))]
}

func (st *sessionStore) get(id string) *session {
	if !wellFormedToken(id) {
		return nil
	}
	sh := st.shard(id)
	sh.mu.Lock()
	sess := sh.m[id]
	sh.mu.Unlock()
	return sess
}

func (st *sessionStore) create(user string) *session {
	sess := &session{id: newToken(), user: user, created: time.Now()}
	st.orderMu.Lock()
	st.next++
	sess.seq = st.next
	if st.order == nil {
		st.order = make([]string, maxSessions)
	}
	slot := &st.order[sess.seq%maxSessions]
	forget := *slot
	*slot = sess.id
	st.orderMu.Unlock()
	if forget != "" {
		st.end(forget)
	}
	sh := st.shard(sess.id)
	sh.mu.Lock()
	sh.m[sess.id] = sess
	sh.mu.Unlock()
	st.active.Add(1)
	return sess
}

// end forgets session id; ending one that is gone already is no error.
func (st *sessionStore) end(id string) {
	sh := st.shard(id)
	sh.mu.Lock()
	_, ok := sh.m[id]
	delete(sh.m, id)
	sh.mu.Unlock()
	if ok {
		st.active.Add(-1)
	}
}

// fromRequest is the valid session the request carries, counted as one more
// request of it, or nil.
func (st *sessionStore) fromRequest(r *http.Request) *session {
	if len(r.Header["Cookie"]) == 0 {
		return nil // the common case costs one map lookup
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	sess := st.get(c.Value)
	if sess != nil {
		sess.requests.Add(1)
		st.requests.Add(1)
	}
	return sess
}

// countLogin adds one login of user and returns how many it has had.
func (st *sessionStore) countLogin(user string) int64 {
	st.loginsMu.Lock()
	defer st.loginsMu.Unlock()
	n, seen := st.logins[user]
	if !seen {
		// Bounded like everything else: past the cap the user first seen
		// longest ago loses its count.
		if len(st.loginOrder) < maxLoginCounts {
			st.loginOrder = append(st.loginOrder, user)
		} else {
			delete(st.logins, st.loginOrder[st.loginNext])
			st.loginOrder[st.loginNext] = user
			st.loginNext = (st.loginNext + 1) % maxLoginCounts
		}
	}
	st.logins[user] = n + 1
	return n + 1
}

func (st *sessionStore) loginCount(user string) int64 {
	st.loginsMu.Lock()
	defer st.loginsMu.Unlock()
	return st.logins[user]
}

// loginPage is the form of GET /login and of a failed POST /login.
func loginPage(token, next, user string, failed bool) []byte {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Log in · lab shop</title></head>\n<body>\n<h1>Log in</h1>\n")
	if failed {
		b.WriteString(`<p class="errornote">Please enter a correct username and password. Note that both fields may be case-sensitive.</p>` + "\n")
	}
	b.WriteString(`<form method="post" action="/login">` + "\n")
	b.WriteString(`<input type="hidden" name="csrfmiddlewaretoken" value="` + token + `">` + "\n")
	b.WriteString(`<label>Username <input type="text" name="username" value="` + html.EscapeString(user) + `" maxlength="64" autocomplete="username" required></label>` + "\n")
	b.WriteString(`<label>Password <input type="password" name="password" autocomplete="current-password" required></label>` + "\n")
	if next != "" {
		b.WriteString(`<input type="hidden" name="next" value="` + html.EscapeString(next) + `">` + "\n")
	}
	b.WriteString("<button type=\"submit\">Log in</button>\n</form>\n</body></html>\n")
	return []byte(b.String())
}

// csrfToken is the request's csrftoken cookie if it is well formed, else "".
func csrfToken(r *http.Request) string {
	if len(r.Header["Cookie"]) == 0 {
		return ""
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || !wellFormedToken(c.Value) {
		return ""
	}
	return c.Value
}

func setCSRFCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: token, Path: "/", SameSite: http.SameSiteLaxMode})
}

// safeNext is next if it is a path on this site, else "": an open redirect
// ("//evil.example", "https://…", "/\evil") is refused, as Django does.
func safeNext(next string) string {
	if len(next) < 1 || len(next) > maxNextLen || next[0] != '/' {
		return ""
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return ""
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	return next
}

var noStore = []string{"no-store"}

// loginGet is GET /login: the form, and a csrftoken cookie to send it back with.
func (s *Shop) loginGet(w http.ResponseWriter, r *http.Request) int {
	token := csrfToken(r)
	if token == "" {
		token = newToken()
	}
	setCSRFCookie(w, token)
	w.Header()["Cache-Control"] = noStore
	return writeBody(w, http.StatusOK, ctHTML, loginPage(token, safeNext(r.URL.Query().Get("next")), "", false))
}

// loginPost is POST /login: CSRF check, then credentials, then a new session
// and a rotated CSRF token.
func (s *Shop) loginPost(w http.ResponseWriter, r *http.Request, sess *session) int {
	form, code, msg := readForm(w, r, true)
	if code != 0 {
		return writeError(w, code, msg)
	}
	token, problem := checkCSRF(r, form)
	if problem != "" {
		s.metrics.logins[loginCSRF].Inc()
		return writeError(w, http.StatusForbidden, problem)
	}
	user, password := form.Get("username"), form.Get("password")
	next := form.Get("next")
	if next == "" {
		next = r.URL.Query().Get("next")
	}
	next = safeNext(next)
	if !usernameRE.MatchString(user) || password != loginPassword {
		s.metrics.logins[loginBadCredentials].Inc()
		setCSRFCookie(w, token)
		w.Header()["Cache-Control"] = noStore
		return writeBody(w, http.StatusOK, ctHTML, loginPage(token, next, truncate(user, 64), true))
	}
	if sess != nil {
		s.sessions.end(sess.id) // a login always starts a fresh session
	}
	fresh := s.sessions.create(user)
	s.sessions.countLogin(user)
	s.metrics.logins[loginOK].Inc()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: fresh.id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	setCSRFCookie(w, newToken()) // rotated at login, as Django does
	if next == "" {
		next = "/account"
	}
	return redirect(w, next)
}

// logout is POST /logout: CSRF check, then the session ends.
func (s *Shop) logout(w http.ResponseWriter, r *http.Request, sess *session) int {
	form, code, msg := readForm(w, r, false)
	if code != 0 {
		return writeError(w, code, msg)
	}
	if _, problem := checkCSRF(r, form); problem != "" {
		return writeError(w, http.StatusForbidden, problem)
	}
	if sess == nil {
		return writeError(w, http.StatusForbidden, "no valid session to log out: log in first with POST /login and send its sessionid cookie")
	}
	s.sessions.end(sess.id)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return redirect(w, "/login")
}

type accountJSON struct {
	User     string `json:"user"`
	Session  string `json:"session"`
	Logins   int64  `json:"logins"`
	Requests int64  `json:"requests"`
}

// account is GET /account: who the session is, or a redirect to log in.
func (s *Shop) account(w http.ResponseWriter, sess *session) int {
	if sess == nil {
		return redirect(w, "/login?next=/account")
	}
	w.Header()["Cache-Control"] = noStore
	return writeJSON(w, http.StatusOK, accountJSON{
		User: sess.user, Session: sess.id, Logins: s.sessions.loginCount(sess.user), Requests: sess.requests.Load(),
	})
}

// redirect answers 302 Found to location with an empty body, as Django does.
func redirect(w http.ResponseWriter, location string) int {
	w.Header().Set("Location", location)
	return writeBody(w, http.StatusFound, ctHTML, nil)
}

// readForm reads an application/x-www-form-urlencoded body of at most
// maxBody bytes. Unless required, another content type is no error and
// gives an empty form (a CSRF token may still come in the header). A
// non-zero code is the status to answer with msg.
func readForm(w http.ResponseWriter, r *http.Request, required bool) (url.Values, int, string) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		if !required {
			return url.Values{}, 0, ""
		}
		return nil, http.StatusUnsupportedMediaType, "send the form as application/x-www-form-urlencoded, not " +
			quoteOrNone(truncate(r.Header.Get("Content-Type"), 80))
	}
	body, code, msg := readCapped(w, r, maxBody)
	if code != 0 {
		return nil, code, msg
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, http.StatusBadRequest, "form body is not valid application/x-www-form-urlencoded: " + truncate(err.Error(), 120)
	}
	return form, 0, ""
}

func quoteOrNone(s string) string {
	if s == "" {
		return "no Content-Type"
	}
	return `"` + s + `"`
}

// checkCSRF is Django's double-submit check: the csrftoken cookie must be
// there and well formed, and the form field csrfmiddlewaretoken (or, when
// that is empty, the X-CSRFToken header) must equal it. It returns the
// cookie's token, or what is wrong.
func checkCSRF(r *http.Request, form url.Values) (token, problem string) {
	var cookie string
	if len(r.Header["Cookie"]) > 0 {
		if c, err := r.Cookie(csrfCookie); err == nil {
			cookie = c.Value
		}
	}
	switch {
	case cookie == "":
		return "", "CSRF cookie not set: GET /login first and send its csrftoken cookie back"
	case !wellFormedToken(cookie):
		return "", "CSRF cookie has the wrong format: csrftoken must be 32 letters and digits, as GET /login sets it"
	}
	sent := form.Get(csrfField)
	if sent == "" {
		sent = r.Header.Get(csrfHeader)
	}
	switch {
	case sent == "":
		return "", "CSRF token missing: send the form field csrfmiddlewaretoken or the header X-CSRFToken with the csrftoken cookie's value"
	case sent != cookie:
		return "", "CSRF token incorrect: csrfmiddlewaretoken (or X-CSRFToken) does not match the csrftoken cookie"
	}
	return cookie, ""
}

// sessionCart is the session's open cart, opened on first use and again
// after a checkout closed it or the cart cap forgot it.
func (s *Shop) sessionCart(sess *session) *cart {
	sess.cartMu.Lock()
	defer sess.cartMu.Unlock()
	if id := sess.cartID.Load(); id != 0 {
		if c := s.carts.get(id); c != nil {
			return c
		}
	}
	c := s.carts.create()
	sess.cartID.Store(c.id)
	return c
}

// getSessionCart is GET /cart with a session.
func (s *Shop) getSessionCart(w http.ResponseWriter, sess *session) int {
	if id := sess.cartID.Load(); id != 0 {
		if c := s.carts.get(id); c != nil {
			return writeJSON(w, http.StatusOK, c.snapshot())
		}
	}
	return writeError(w, http.StatusNotFound, "this session has no open cart; POST /cart opens one")
}

type adminSessionJSON struct {
	Session  string    `json:"session"`
	User     string    `json:"user"`
	Requests int64     `json:"requests"`
	Created  time.Time `json:"created"`
}

type adminSessionsJSON struct {
	Active   int                `json:"active"`
	Sessions []adminSessionJSON `json:"sessions"`
	Logins   map[string]int64   `json:"logins"`
}

// adminSessions is GET /admin/sessions: the shop's own record of who logged
// in, for tests that prove logins from the target's side.
func (s *Shop) adminSessions(w http.ResponseWriter, r *http.Request) int {
	if !s.adminAuthorized(w, r) {
		return http.StatusUnauthorized
	}
	st := &s.sessions
	var all []*session
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.Lock()
		for _, sess := range sh.m {
			all = append(all, sess)
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(all, func(a, b *session) int { return cmp.Compare(a.seq, b.seq) })
	out := adminSessionsJSON{Active: len(all), Sessions: make([]adminSessionJSON, len(all))}
	for i, sess := range all {
		out.Sessions[i] = adminSessionJSON{sess.id, sess.user, sess.requests.Load(), sess.created.UTC()}
	}
	st.loginsMu.Lock()
	out.Logins = make(map[string]int64, len(st.logins))
	for u, n := range st.logins {
		out.Logins[u] = n
	}
	st.loginsMu.Unlock()
	return writeJSON(w, http.StatusOK, out)
}
