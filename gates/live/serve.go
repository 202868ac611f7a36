package live

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"lab/gates/report"
	"lab/runtime/guard"
)

//go:embed page.html.tmpl
var pageText string

//go:embed app.js
var appJS []byte

var page = template.Must(template.New("live").Parse(pageText))

// Access says who may use the page.
type Access struct {
	// Token, when set, is asked of every request: as a bearer token, or
	// on the page's address as ?token=… (a browser cannot send a header
	// when it opens a link). The stop button sends it as a bearer token.
	Token string
	// Local says the page listens on loopback only: it then answers only
	// requests addressed to a loopback name, so a web page elsewhere
	// cannot reach it through a DNS name that resolves to 127.0.0.1.
	Local bool
}

// Handler serves the page: / (HTML), /app.js, GET /api/state (the View as
// JSON) and POST /api/stop.
func (p *Page) Handler(a Access) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.servePage)
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(appJS)
	})
	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(p.View())
	})
	mux.HandleFunc("POST /api/stop", p.serveStop)
	return a.guard(mux)
}

func (a Access) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.Local && !guard.LoopbackHost(r.Host) {
			http.Error(w, "this page answers on a loopback address only", http.StatusForbidden)
			return
		}
		if a.Token != "" && !a.carries(r) {
			http.Error(w, "a token is required: open the page as /?token=<LAB_TOKEN>", http.StatusUnauthorized)
			return
		}
		// The page loads nothing from elsewhere, runs only its own script
		// and may not be framed.
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// carries says the request holds the token: as a bearer token, or (not
// for the stop button) in the address.
func (a Access) carries(r *http.Request) bool {
	got := guard.BearerOf(r)
	if got == "" && r.Method == http.MethodGet {
		got = strings.TrimSpace(r.URL.Query().Get("token"))
	}
	return got != "" && guard.TokenOK(a.Token, got)
}

// servePage renders the page with the run as it is now, so it shows the
// figures before its script's first poll (and without script at all).
func (p *Page) servePage(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	err := page.Execute(&b, struct {
		View
		Style template.CSS
	}{p.View(), report.Style()})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

// serveStop stops the run. Only the page's own script can ask: it sends
// X-Lab-Stop, which a form on another site cannot, and a request from
// another origin would have to be let through by CORS, which this page
// never does.
func (p *Page) serveStop(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Lab-Stop") == "" || !sameOrigin(r) {
		http.Error(w, "the run is stopped from its page only", http.StatusForbidden)
		return
	}
	p.mu.Lock()
	stop, state := p.stop, p.state
	if stop != nil && state == Running {
		p.state, p.stopped = Stopping, "stopped from the live page"
	}
	p.mu.Unlock()
	switch {
	case state == Done || state == Stopping:
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte("the run is already " + string(state) + "\n"))
		return
	case stop == nil || state != Running:
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte("the run has not started yet\n"))
		return
	}
	stop("stopped from the live page at " + r.Host)
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte("stopping: requests in flight finish, then the run is written and judged\n"))
}

// sameOrigin says a browser's request comes from this page: its Origin,
// when it sends one, is this host.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
