// Package guard keeps lab's HTTP endpoints (the master, /metrics, the live
// page) on this machine unless a token guards them, and checks that token
// in constant time. One rule for all three, so none can drift.
package guard

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Local says whether addr (host:port) listens on this machine only:
// "localhost" or a loopback IP. An empty host (":8089") listens everywhere.
func Local(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// LoopbackHost says whether a request's Host (with or without its port)
// names this machine: "localhost" or a loopback IP. A page on loopback
// answers only such requests, so that a DNS name rebound to 127.0.0.1 by a
// web page elsewhere gets nothing.
func LoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Check refuses an address beyond this machine when there is no token;
// what names the endpoint in the error ("--ui", "the master").
func Check(what, addr, token string) error {
	local, err := Local(addr)
	if err != nil {
		return fmt.Errorf("%s %q: %v", what, addr, err)
	}
	if local || token != "" {
		return nil
	}
	return fmt.Errorf("%s %s is beyond this machine without a token: set LAB_TOKEN (or --token-file), or use 127.0.0.1", what, addr)
}

// TokenOK compares a presented token with the expected one in constant time.
func TokenOK(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// BearerOf is the token a request carries as "Authorization: Bearer …".
func BearerOf(r *http.Request) string {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(got)
}

// Bearer serves next only to requests that carry token as a bearer token.
func Bearer(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !TokenOK(token, BearerOf(r)) {
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
