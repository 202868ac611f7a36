package lang

import (
	"net/mail"
	"regexp"
	"strings"
	"testing"
)

// TestFakeKinds: each kind gives data of its form — an email net/mail
// parses, card numbers that pass the Luhn check, five-digit zips, the
// benchmark range's addresses — varied across draws and the same for the
// same seed.
func TestFakeKinds(t *testing.T) {
	p := &Plan{Seed: 7, env: &env{}}
	a, b := p.NewScope(1, "u"), p.NewScope(1, "u")
	forms := map[string]*regexp.Regexp{
		"zip_code":       regexp.MustCompile(`^\d{5}$`),
		"phone":          regexp.MustCompile(`^\+1-\d{3}-555-01\d\d$`),
		"ipv4":           regexp.MustCompile(`^198\.1[89]\.\d{1,3}\.\d{1,3}$`),
		"state_abbr":     regexp.MustCompile(`^[A-Z]{2}$`),
		"street_address": regexp.MustCompile(`^\d{1,4} [A-Z][a-z]+ [A-Z][a-z]+$`),
		"sentence":       regexp.MustCompile(`^[A-Z][a-z]+( [a-z]+){3,8}\.$`),
		"name":           regexp.MustCompile(`^[A-Z][a-z]+ [A-Z][a-z]+$`),
	}
	for _, kind := range FakeKinds() {
		seen := map[string]bool{}
		for range 200 {
			v, w := fakeKinds[kind](a), fakeKinds[kind](b)
			if v != w {
				t.Fatalf("%s: %q and %q from one seed", kind, v, w)
			}
			seen[v] = true
			switch kind {
			case "email":
				if addr, err := mail.ParseAddress(v); err != nil || addr.Address != v || !strings.HasSuffix(v, ".com") && !strings.HasSuffix(v, ".org") && !strings.HasSuffix(v, ".net") {
					t.Errorf("email %q: %v", v, err)
				}
			case "credit_card":
				if len(v) != 16 || v[0] != '4' || !luhn(v) {
					t.Errorf("card %q fails the Luhn check", v)
				}
			}
			if re := forms[kind]; re != nil && !re.MatchString(v) {
				t.Errorf("%s %q", kind, v)
			}
		}
		if len(seen) < 5 {
			t.Errorf("%s drew %d values in 200", kind, len(seen))
		}
	}
}

func luhn(s string) bool {
	sum := 0
	for i := range s {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
