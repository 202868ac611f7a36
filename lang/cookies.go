package lang

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// CookieMode is how long a user keeps the cookies its target sets.
type CookieMode int

const (
	// CookiesNone sends no cookie the target set (a header the plan writes
	// still goes): lab's behaviour before jars, and the cheapest.
	CookiesNone CookieMode = iota
	// CookiesPass keeps them for one pass of a task or sequence (k6's
	// default: every iteration starts logged out).
	CookiesPass
	// CookiesUser keeps them for the user's life (Locust's session): a
	// login in the user's start block lasts for every pass after it.
	CookiesUser
)

var cookieModes = map[string]CookieMode{"none": CookiesNone, "pass": CookiesPass, "user": CookiesUser}

func (m CookieMode) String() string {
	for k, v := range cookieModes {
		if v == m {
			return k
		}
	}
	return "none"
}

// cookie is one cookie in a user's jar. A plan has one host, so a cookie's
// domain is that host; its path still decides which requests carry it.
type cookie struct {
	name, value, path string
}

// SetCookie keeps a cookie the target set, replacing one of the same name
// and path; expired removes it (a logout's Max-Age=0 or a past Expires).
// A path that is not absolute counts as "/" (RFC 6265 would take the
// request's folder). It allocates only when the jar changes: a session
// cookie set again on every response costs no garbage.
func (s *Scope) SetCookie(name, value, path []byte, expired bool) {
	if len(path) == 0 || path[0] != '/' {
		path = slash
	}
	for i := range s.jar {
		c := &s.jar[i]
		if c.name == string(name) && c.path == string(path) {
			switch {
			case expired:
				s.jar = append(s.jar[:i], s.jar[i+1:]...)
			case c.value != string(value):
				c.value = string(value)
			}
			return
		}
	}
	if !expired {
		s.jar = append(s.jar, cookie{name: string(name), value: string(value), path: string(path)})
	}
}

var slash = []byte("/")

// DropCookie takes every cookie of that name out of the jar, whatever its
// path (Locust's del session.cookies[name], k6's jar.delete).
func (s *Scope) DropCookie(name string) {
	s.jar = slices.DeleteFunc(s.jar, func(c cookie) bool { return c.name == name })
}

// EachCookie calls f with every cookie a request to path carries.
func (s *Scope) EachCookie(path []byte, f func(name, value string)) {
	for _, c := range s.jar {
		if pathMatches(path, c.path) {
			f(c.name, c.value)
		}
	}
}

// HasCookies tells whether the jar holds any cookie.
func (s *Scope) HasCookies() bool { return len(s.jar) > 0 }

// ClearCookies empties the jar, and forgets what the start block left.
func (s *Scope) ClearCookies() { s.jar, s.jarStart = s.jar[:0], s.jarStart[:0] }

// StartedJar marks the jar as the user's start block left it: under
// cookies = "pass" every pass begins with it (a login's session cookie).
func (s *Scope) StartedJar() { s.jarStart = append(s.jarStart[:0], s.jar...) }

// NewPassJar gives a pass under cookies = "pass" its own jar: the one the
// start block left.
func (s *Scope) NewPassJar() { s.jar = append(s.jar[:0], s.jarStart...) }

// pathMatches is RFC 6265's path-match: the cookie's path is a prefix of
// the request's, ending at a "/" boundary.
func pathMatches(reqPath []byte, cookiePath string) bool {
	if i := indexByte(reqPath, '?'); i >= 0 {
		reqPath = reqPath[:i]
	}
	if len(reqPath) < len(cookiePath) || string(reqPath[:len(cookiePath)]) != cookiePath {
		return false
	}
	return len(reqPath) == len(cookiePath) || cookiePath[len(cookiePath)-1] == '/' || reqPath[len(cookiePath)] == '/'
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// jarValue is the value of the cookie name a request to any path would
// see last set: what cookie("name") reads.
func (s *Scope) jarValue(name string) (string, bool) {
	for i := len(s.jar) - 1; i >= 0; i-- {
		if s.jar[i].name == name {
			return s.jar[i].value, true
		}
	}
	return "", false
}

// cookieFunc is cookie("name"): the value in the user's jar, for a CSRF
// token sent back in a header or a form field.
func cookieFunc(s *Scope) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "name", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if s.trial {
				return cty.UnknownVal(cty.String), nil
			}
			name := args[0].AsString()
			if v, ok := s.jarValue(name); ok {
				return cty.StringVal(v), nil
			}
			return cty.NilVal, fmt.Errorf("the user's cookie jar holds no %q (is cookies set on the workload or the user?)", name)
		},
	})
}

// setCookieValues reads name=value of each Set-Cookie line: what
// response.cookies shows of the response itself.
func setCookieValues(lines []string) map[string]cty.Value {
	out := map[string]cty.Value{}
	for _, l := range lines {
		pair, _, _ := strings.Cut(l, ";")
		name, value, ok := strings.Cut(pair, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			continue
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		out[name] = cty.StringVal(value)
	}
	return out
}
