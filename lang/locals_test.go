package lang

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLocalsAndPassValues: locals are computed once at load (a CSV file
// decoded, a digest of another local written after it, a credential made
// from a sensitive variable and so kept secret); a pass block draws its
// values once per pass, so both steps of a pass send the same product and
// a later value reads an earlier one.
func TestLocalsAndPassValues(t *testing.T) {
	p := mustLoad(t, "testdata/workloads/data.hcl", Options{})
	u := p.Workload.Users[0]
	buy := u.Tasks[0]
	if len(buy.Pass) != 3 {
		t.Fatalf("%d pass values, want 3", len(buy.Pass))
	}
	add := buy.Steps[1]
	var auth, digest *Pair
	for i := range add.Headers {
		switch add.Headers[i].Key {
		case "Authorization":
			auth = &add.Headers[i]
		case "X-Digest":
			digest = &add.Headers[i]
		}
	}
	if auth == nil || !auth.Value.Static() || auth.Value.StaticText() != "Basic YWRtaW46aHVudGVyMg==" || !auth.Secret {
		t.Errorf("Authorization from local.basic: %+v", auth)
	}
	// sha256("alice"): local.digest reads local.first, written after it.
	if digest == nil || digest.Value.StaticText() != "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90" || digest.Secret {
		t.Errorf("X-Digest from local.digest: %+v", digest)
	}
	if strings.Contains(p.Summary(), "hunter2") || strings.Contains(p.Summary(), "YWRtaW46aHVudGVyMg") {
		t.Errorf("the plan's summary shows the secret:\n%s", p.Summary())
	}
	login := u.Start[0]
	s := p.NewScope(2, "member")
	body, err := appendFormForTest(login, s)
	if err != nil || body != "password=c-pw&username=carol" && body != "username=carol&password=c-pw" {
		t.Errorf("user 2's login form %q (%v): want the third row (element counts from 0, user.id from 1)", body, err)
	}
	seen := map[string]bool{}
	for pass := 0; pass < 20; pass++ {
		buy.DrawPass(s)
		if err := s.TakePending(); err != nil {
			t.Fatal(err)
		}
		path, err := buy.Steps[0].Path.AppendText(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		js, err := add.Body.Value.AppendJSON(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimPrefix(string(path), "/products/")
		if !strings.Contains(string(js), `"product_id":`+id+`,`) || !strings.Contains(string(js), `"label":"p`+id+`x`) {
			t.Fatalf("pass %d: viewed %s but added %s", pass, path, js)
		}
		seen[id] = true
	}
	if len(seen) < 10 {
		t.Errorf("20 passes drew only %d products: not drawn anew per pass", len(seen))
	}
	// A value that cannot be drawn is kept as the pass's error.
	bad := &Task{Pass: []*PassValue{{Name: "x", Value: buy.Steps[0].Path}}}
	s2 := p.NewScope(3, "member")
	bad.DrawPass(s2)
	if err := s2.TakePending(); err == nil || !strings.Contains(err.Error(), "pass.x") {
		t.Errorf("a pass value reading an undrawn one: error %v", err)
	}
}

func appendFormForTest(r *Request, s *Scope) (string, error) {
	var parts []string
	for _, f := range r.Body.Form {
		b, err := f.Value.AppendText(nil, s)
		if err != nil {
			return "", err
		}
		parts = append(parts, f.Key+"="+string(b))
	}
	return strings.Join(parts, "&"), nil
}

// TestTOTP checks totp against RFC 6238's SHA-1 test vectors (the secret
// "12345678901234567890" in base32, eight digits there; six here).
func TestTOTP(t *testing.T) {
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		got, err := totpCode(secret, time.Unix(unix, 0))
		if err != nil || got != want {
			t.Errorf("totp at %d = %q (%v), want %q", unix, got, err, want)
		}
	}
	if _, err := totpCode("not base32!", time.Now()); err == nil {
		t.Error("a secret that is not base32 gave a code")
	}
}

// TestTraceparent: W3C Trace Context's format, version 00, sampled, ids
// not all zero, a new trace each call.
func TestTraceparent(t *testing.T) {
	p := mustLoad(t, "testdata/workloads/data.hcl", Options{})
	s := p.NewScope(1, "member")
	re := regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`)
	a, b := s.traceparent(), s.traceparent()
	if !re.MatchString(a) || a == b || strings.Contains(a, "-00000000000000000000000000000000-") {
		t.Errorf("traceparent %q then %q", a, b)
	}
}
