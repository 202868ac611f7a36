package shopknobs

import (
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range All() {
		if seen[k.Name] {
			t.Errorf("knob %s is listed twice", k.Name)
		}
		seen[k.Name] = true
		if k.Flag != strings.ReplaceAll(k.Name, "_", "-") || k.Env != "LAB_SUT_"+strings.ToUpper(k.Name) {
			t.Errorf("knob %s: flag %q, env %q", k.Name, k.Flag, k.Env)
		}
		if k.Doc == "" {
			t.Errorf("knob %s has no help line", k.Name)
		}
		if k.Bounded() && k.Min > k.Max {
			t.Errorf("knob %s: range %v..%v is empty", k.Name, k.Min, k.Max)
		}
		if got, ok := Lookup(k.Name); !ok || got != k {
			t.Errorf("Lookup(%s) = %+v, %v", k.Name, got, ok)
		}
	}
	if _, ok := Lookup("eror_rate"); ok {
		t.Error("Lookup found a knob that does not exist")
	}
	// The slices handed out are the caller's own.
	All()[0].Name = "changed"
	Routes()[0] = "changed"
	if All()[0].Name != "listen" || Routes()[0] != "GET /" {
		t.Error("a caller's edit reached the table")
	}
}

func TestNearestRoute(t *testing.T) {
	for given, want := range map[string]string{
		"GET /product":    "GET /products",
		"POST /checkout":  "POST /checkout",
		"GET /checkout":   "", // 4 edits from POST /checkout
		"GET /cart/{idd}": "GET /cart/{id}",
		"PUT /carts":      "",
		"get /":           "",
		"GET /products/":  "GET /products",
	} {
		if got := NearestRoute(given); got != want {
			t.Errorf("NearestRoute(%q) = %q, want %q", given, got, want)
		}
	}
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"héllo", "hello", 1}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
