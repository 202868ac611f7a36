package sut

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// KnobsJSON is the body of the admin endpoint, both ways: GET /admin/knobs
// answers every knob but the token; PUT or POST /admin/knobs changes the
// fields it carries and leaves the rest. Durations are Go duration strings
// ("20ms"), sizes integer bytes, ratios numbers from 0 to 1. route_latency,
// when present, replaces the whole map ({} clears it).
type KnobsJSON struct {
	Listen         *string            `json:"listen,omitempty"`
	Seed           *int64             `json:"seed,omitempty"`
	Products       *int               `json:"products,omitempty"`
	Latency        *string            `json:"latency,omitempty"`
	LatencyJitter  *string            `json:"latency_jitter,omitempty"`
	RouteLatency   *map[string]string `json:"route_latency,omitempty"`
	TailRatio      *float64           `json:"tail_ratio,omitempty"`
	TailFactor     *float64           `json:"tail_factor,omitempty"`
	ErrorRate      *float64           `json:"error_rate,omitempty"`
	WrongRate      *float64           `json:"wrong_rate,omitempty"`
	LeakPerRequest *int64             `json:"leak_per_request,omitempty"`
	LeakRoute      *string            `json:"leak_route,omitempty"`
	Contention     *string            `json:"contention,omitempty"`
	GCChurn        *int64             `json:"gc_churn,omitempty"`
	AdminToken     *string            `json:"admin_token,omitempty"`
}

// knobsToJSON describes k for GET /admin/knobs; the token is never shown.
func knobsToJSON(k Knobs) KnobsJSON {
	dur := func(d time.Duration) *string { s := d.String(); return &s }
	routes := make(map[string]string, len(k.RouteLatency))
	for r, d := range k.RouteLatency {
		routes[r] = d.String()
	}
	return KnobsJSON{
		Listen: &k.Listen, Seed: &k.Seed, Products: &k.Products,
		Latency: dur(k.Latency), LatencyJitter: dur(k.LatencyJitter), RouteLatency: &routes,
		TailRatio: &k.TailRatio, TailFactor: &k.TailFactor,
		ErrorRate: &k.ErrorRate, WrongRate: &k.WrongRate,
		LeakPerRequest: &k.LeakPerRequest, LeakRoute: &k.LeakRoute, Contention: dur(k.Contention), GCChurn: &k.GCChurn,
	}
}

// apply sets on k the fields that j carries.
func (j KnobsJSON) apply(k Knobs) (Knobs, error) {
	var errs []error
	dur := func(name string, s *string, dst *time.Duration) {
		if s == nil {
			return
		}
		d, err := time.ParseDuration(*s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration like \"20ms\" or \"1.5s\"", name, *s))
			return
		}
		*dst = d
	}
	setIf(&k.Listen, j.Listen)
	setIf(&k.Seed, j.Seed)
	setIf(&k.Products, j.Products)
	dur("latency", j.Latency, &k.Latency)
	dur("latency_jitter", j.LatencyJitter, &k.LatencyJitter)
	if j.RouteLatency != nil {
		k.RouteLatency = nil
		for r, s := range *j.RouteLatency {
			var d time.Duration
			dur("route_latency "+fmt.Sprintf("%q", r), &s, &d)
			if k.RouteLatency == nil {
				k.RouteLatency = map[string]time.Duration{}
			}
			k.RouteLatency[r] = d
		}
	}
	setIf(&k.TailRatio, j.TailRatio)
	setIf(&k.TailFactor, j.TailFactor)
	setIf(&k.ErrorRate, j.ErrorRate)
	setIf(&k.WrongRate, j.WrongRate)
	setIf(&k.LeakPerRequest, j.LeakPerRequest)
	setIf(&k.LeakRoute, j.LeakRoute)
	dur("contention", j.Contention, &k.Contention)
	setIf(&k.GCChurn, j.GCChurn)
	setIf(&k.AdminToken, j.AdminToken)
	return k, errors.Join(errs...)
}

func setIf[T any](dst, src *T) {
	if src != nil {
		*dst = *src
	}
}

// adminHandler serves /admin/knobs behind the bearer token.
func (s *Shop) adminHandler() http.Handler {
	var mu sync.Mutex // one change at a time, so none is lost
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.adminAuthorized(w, r) {
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			writeJSON(w, http.StatusOK, knobsToJSON(s.Knobs()))
			return
		}
		var j KnobsJSON
		if err := decodeBody(w, r, &j, `{"error_rate": 0.1, "latency": "20ms"}`); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		mu.Lock()
		defer mu.Unlock()
		k, err := j.apply(s.Knobs())
		if err == nil {
			err = s.SetKnobs(k)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, strings.ReplaceAll(err.Error(), "\n", "; "))
			return
		}
		shown := k
		shown.AdminToken = "" // never in a log
		s.logf("admin: knobs changed; now: %s", strings.Join(shown.Args(), " "))
		writeJSON(w, http.StatusOK, knobsToJSON(s.Knobs()))
	})
}

// adminAuthorized says whether r carries the admin token; if not, it has
// answered 401. Every /admin endpoint checks the same way.
func (s *Shop) adminAuthorized(w http.ResponseWriter, r *http.Request) bool {
	want := sha256.Sum256([]byte(s.fixed.AdminToken))
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	// Hashing first makes the compare constant-time in the length too.
	sum := sha256.Sum256([]byte(got))
	if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lab shop admin"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong token; send Authorization: Bearer <admin_token>")
		return false
	}
	return true
}

// serveAdmin serves the admin endpoint and returns the status it answered.
func (s *Shop) serveAdmin(w http.ResponseWriter, r *http.Request) int {
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	s.admin.ServeHTTP(rec, r)
	return rec.code
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}
