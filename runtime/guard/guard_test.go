package guard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:0", "", true},
		{"[::1]:9646", "", true},
		{"localhost:8089", "", true},
		{"127.0.0.2:1", "", true},
		{"0.0.0.0:8089", "", false},
		{":8089", "", false},
		{"10.1.2.3:8089", "", false},
		{"example.com:80", "", false},
		{"0.0.0.0:8089", "s3cret-token", true},
		{"no-port", "", false},
	}
	for _, c := range cases {
		err := Check("--ui", c.addr, c.token)
		if (err == nil) != c.ok {
			t.Errorf("Check(%q, token %q) = %v, want ok=%v", c.addr, c.token, err, c.ok)
		}
		if err != nil && c.addr != "no-port" && !strings.Contains(err.Error(), "LAB_TOKEN") {
			t.Errorf("%q: the error does not say how to fix it: %v", c.addr, err)
		}
	}
}

func TestBearer(t *testing.T) {
	h := Bearer("right-token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	for _, c := range []struct {
		header string
		code   int
	}{{"", 401}, {"Bearer wrong", 401}, {"right-token", 401}, {"Bearer right-token", 204}, {"Bearer  right-token ", 204}} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.code {
			t.Errorf("Authorization %q: %d, want %d", c.header, w.Code, c.code)
		}
	}
}

// A loopback page answers only Host names of this machine: a rebound DNS
// name (evil.example resolving to 127.0.0.1) is refused.
func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:8089": true, "127.0.0.1": true, "localhost:8089": true, "localhost": true,
		"[::1]:8089": true, "[::1]": true, "evil.example:8089": false, "evil.example": false,
		"10.0.0.1:8089": false, "": false,
	} {
		if got := LoopbackHost(host); got != want {
			t.Errorf("LoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
