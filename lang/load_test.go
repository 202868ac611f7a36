package lang

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// shippedPlans are the scenarios in plans/.
func shippedPlans(t testing.TB) []string {
	files, _ := filepath.Glob("../plans/*.hcl")
	var out []string
	for _, f := range files {
		if IsPlanFile(f) {
			out = append(out, f)
		}
	}
	if len(out) < 7 {
		t.Fatalf("found %d scenarios in plans/; want smoke, baseline, stress, spike, soak, leak-test, shop", len(out))
	}
	return out
}

func mustLoad(t *testing.T, path string, opts Options) *Plan {
	t.Helper()
	plan, diags := Load(path, opts)
	if diags.HasErrors() {
		var b strings.Builder
		WriteDiagnostics(&b, nil, diags, false)
		t.Fatalf("loading %s:\n%s", path, b.String())
	}
	return plan
}

// writePlan writes a plan (and optionally a workload file) to a temp folder.
func writePlan(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "plan.hcl")
}

func TestShippedPlansLoadCleanAndAreFormatted(t *testing.T) {
	for _, path := range shippedPlans(t) {
		plan, diags := Load(path, Options{})
		if len(diags) > 0 {
			var b strings.Builder
			WriteDiagnostics(&b, nil, diags, false)
			t.Errorf("%s: want no diagnostics, got:\n%s", path, b.String())
			continue
		}
		for _, v := range []string{"duration", "workers", "host"} {
			if !hasVar(plan, v) {
				t.Errorf("%s: every scenario takes the variable %q", path, v)
			}
		}
		if !hasVar(plan, "users") && !hasVar(plan, "rate") {
			t.Errorf("%s: every scenario takes users or rate", path)
		}
		if plan.Workload.Source != "../plans/shop.workload.hcl" {
			t.Errorf("%s: workload from %q; every scenario shares plans/shop.workload.hcl", path, plan.Workload.Source)
		}
	}
	files, _ := filepath.Glob("../plans/*.hcl")
	for _, f := range files {
		src, _ := os.ReadFile(f)
		out, diags := Format(src, f)
		if diags.HasErrors() || string(out) != string(src) {
			t.Errorf("%s is not in canonical form (lab fmt)", f)
		}
	}
}

func hasVar(p *Plan, name string) bool {
	for _, v := range p.Vars {
		if v.Name == name {
			return true
		}
	}
	return false
}

func TestSummaryIsDeterministic(t *testing.T) {
	for _, path := range shippedPlans(t) {
		a := mustLoad(t, path, Options{}).Summary()
		b := mustLoad(t, path, Options{}).Summary()
		if a != b {
			t.Errorf("%s: two loads gave different summaries", path)
		}
		if strings.Contains(a, " \n") {
			t.Errorf("%s: summary has trailing spaces", path)
		}
	}
}

// The shared workload: 75% browsers, 25% buyers running the funnel in
// order, where a 200 without order_id is a failure.
func TestSharedWorkload(t *testing.T) {
	p := mustLoad(t, "../plans/smoke.hcl", Options{})
	w := p.Workload
	if len(w.Users) != 2 || w.Users[0].Name != "browser" || w.Users[1].Name != "buyer" {
		t.Fatalf("users %v", w.Users)
	}
	if w.Users[0].Weight*1 != 3*w.Users[1].Weight {
		t.Errorf("mix %d:%d, want 3:1", w.Users[0].Weight, w.Users[1].Weight)
	}
	seq := w.Users[1].Tasks[0]
	if !seq.Sequence || len(seq.Steps) != 3 {
		t.Fatalf("buyer task %+v", seq)
	}
	var names []string
	for _, s := range seq.Steps {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "GET /products,POST /cart,POST /checkout" {
		t.Errorf("funnel %v", names)
	}
	co := seq.Steps[2].Expect
	if len(co.Status) != 1 || co.Status[0] != 200 || len(co.JSONPresent) != 1 || co.JSONPresent[0].Text != "order_id" {
		t.Errorf("checkout expects %+v", co)
	}
	if len(seq.Steps[1].Captures) != 1 || seq.Steps[1].Captures[0].Name != "cart_id" {
		t.Errorf("add_to_cart captures %+v", seq.Steps[1].Captures)
	}
}

// plans/shop.hcl holds the shared shapes: LAB_SHAPE picks each, with its
// own length and load while duration and users are unset, and the scenario
// files reading the same shapes file run the very same shape.
func TestLabShapePicksASharedShape(t *testing.T) {
	want := []struct {
		name  string
		model Model
		dur   time.Duration
		peak  string
	}{
		{"stress", Closed, 6 * time.Minute, "up to 400 users"},
		{"arrivals", Open, 6 * time.Minute, "up to 800/s"},
		{"spike", Closed, 6 * time.Minute, "up to 200 users"},
		{"soak", Closed, time.Hour, "up to 50 users"},
	}
	for _, w := range want {
		env := func(k string) string {
			if k == "LAB_SHAPE" {
				return w.name
			}
			return ""
		}
		p := mustLoad(t, "../plans/shop.hcl", Options{Env: env})
		if p.Shape == nil || p.Shape.Name != w.name || p.ShapeFrom != "LAB_SHAPE" || p.Shape.Model != w.model ||
			p.Shape.Duration() != w.dur || p.Shape.Scale != 1 || peakText(p.Shape) != w.peak {
			t.Errorf("LAB_SHAPE=%s: got %+v from %s (%s)", w.name, p.Shape, p.ShapeFrom, peakText(p.Shape))
		}
		if _, ok := p.Sources["../plans/shop.shapes.hcl"]; !ok {
			t.Errorf("LAB_SHAPE=%s: the shapes file is not among the sources a master ships: %v", w.name, p.Sources)
		}
		short := mustLoad(t, "../plans/shop.hcl", Options{Env: env, Vars: []string{"duration=60s", "users=8", "rate=16/s"}})
		if short.Shape.Duration() != time.Minute {
			t.Errorf("LAB_SHAPE=%s -var duration=60s: lasts %v", w.name, short.Shape.Duration())
		}
		if got := peakText(short.Shape); got != "up to 8 users" && got != "up to 16/s" && !(w.name == "spike" && got == "up to 80 users") {
			t.Errorf("LAB_SHAPE=%s -var users=8 -var rate=16/s: %s", w.name, got)
		}
	}
	for plan, shape := range map[string]string{"spike": "spike", "stress": "stress", "soak": "soak"} {
		own := mustLoad(t, "../plans/"+plan+".hcl", Options{})
		if own.Shape.Name != shape || own.ShapeFrom != "run.shape" {
			t.Errorf("%s.hcl runs %q (%s)", plan, own.Shape.Name, own.ShapeFrom)
		}
		shared := mustLoad(t, "../plans/shop.hcl", Options{Shape: shape}).Shape
		if own.Shape.Range != shared.Range || !reflect.DeepEqual(own.Shape.Stages, shared.Stages) {
			t.Errorf("%s.hcl's shape is not shop.shapes.hcl's %q: %+v vs %+v", plan, shape, own.Shape, shared)
		}
	}
}

// A null duration, a variable left unset, keeps the stages as written.
func TestNullDurationKeepsTheWrittenStages(t *testing.T) {
	path := writePlan(t, map[string]string{"plan.hcl": `
variable "duration" {
  type    = string
  default = null
}
workload "w" {
  host = "http://127.0.0.1:1"
  user "u" {
    task "t" {
      get = "/"
    }
  }
}
shape "s" {
  duration = var.duration
  stage {
    until = "90s"
    users = 3
  }
}
`})
	if p := mustLoad(t, path, Options{}); p.Shape.Duration() != 90*time.Second || p.Shape.Scale != 1 {
		t.Errorf("unset: %v ×%v", p.Shape.Duration(), p.Shape.Scale)
	}
	if p := mustLoad(t, path, Options{Vars: []string{"duration=30s"}}); p.Shape.Duration() != 30*time.Second {
		t.Errorf("-var duration=30s: %v", p.Shape.Duration())
	}
}

func TestSpikeScalesWithDuration(t *testing.T) {
	full := mustLoad(t, "../plans/spike.hcl", Options{}).Shape
	short := mustLoad(t, "../plans/spike.hcl", Options{Vars: []string{"duration=30s"}}).Shape
	if full.Duration() != 6*time.Minute || short.Duration() != 30*time.Second {
		t.Fatalf("durations %v and %v", full.Duration(), short.Duration())
	}
	wantEnds := []time.Duration{2 * time.Minute, 3 * time.Minute, 6 * time.Minute}
	for i, st := range full.Stages {
		if st.End != wantEnds[i] {
			t.Errorf("stage %d ends at %v, want %v", i+1, st.End, wantEnds[i])
		}
	}
	if full.Stages[0].Users != 20 || full.Stages[1].Users != 200 || full.Stages[2].Users != 20 {
		t.Errorf("users %d/%d/%d, want 20/200/20", full.Stages[0].Users, full.Stages[1].Users, full.Stages[2].Users)
	}
	for i := range full.Stages {
		f, s := full.Stages[i], short.Stages[i]
		if got, want := float64(s.End)/float64(short.Duration()), float64(f.End)/float64(full.Duration()); math.Abs(got-want) > 0.001 {
			t.Errorf("stage %d ends at %.3f of the run, want %.3f", i+1, got, want)
		}
		// A ramp keeps its share of the run: time to ramp / run length.
		if f.SpawnRate > 0 {
			rampFull := 1 / f.SpawnRate / full.Duration().Seconds()
			rampShort := 1 / s.SpawnRate / short.Duration().Seconds()
			if math.Abs(rampFull-rampShort) > 1e-9 {
				t.Errorf("stage %d ramp share %.5f, want %.5f", i+1, rampShort, rampFull)
			}
		}
		if f.Users != s.Users {
			t.Errorf("stage %d users %d, want %d", i+1, s.Users, f.Users)
		}
	}
}

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.hcl")
	os.WriteFile(path, []byte(minimalPlan), 0o644)
	varFile := filepath.Join(dir, "vars.hcl")
	os.WriteFile(varFile, []byte("users = 30\n"), 0o644)
	env := func(k string) string {
		if k == "LAB_VAR_users" {
			return "20"
		}
		return ""
	}
	users := func(opts Options) (int, string) {
		p := mustLoad(t, path, opts)
		for _, v := range p.Vars {
			if v.Name == "users" {
				return p.Shape.Stages[0].Users, v.Source
			}
		}
		t.Fatal("no users variable")
		return 0, ""
	}
	tests := []struct {
		opts       Options
		want       int
		wantSource string
	}{
		{Options{}, 10, "default"},
		{Options{Env: env}, 20, "env LAB_VAR_users"},
		{Options{Env: env, VarFiles: []string{varFile}}, 30, "-var-file " + varFile},
		{Options{Env: env, VarFiles: []string{varFile}, Vars: []string{"users=40"}}, 40, "-var"},
		{Options{Vars: []string{"users=40", "users=50"}}, 50, "-var"}, // the last -var wins
	}
	for _, tt := range tests {
		got, src := users(tt.opts)
		if got != tt.want || src != tt.wantSource {
			t.Errorf("%+v: users = %d from %q, want %d from %q", tt.opts, got, src, tt.want, tt.wantSource)
		}
	}
	for _, bad := range [][]string{{"users=many"}, {"usres=3"}, {"users"}} {
		if _, diags := Load(path, Options{Vars: bad}); !diags.HasErrors() {
			t.Errorf("-var %v accepted", bad)
		}
	}
	_, diags := Load(path, Options{Vars: []string{"usres=3"}})
	if !strings.Contains(diags.Error(), `Did you mean "users"?`) {
		t.Errorf("no suggestion for a misspelt -var: %s", diags.Error())
	}
}

const minimalPlan = `
variable "users" {
  default = 10
}

workload "w" {
  host = "http://127.0.0.1:8080"
  user "u" {
    task "t" {
      get = "/"
    }
  }
}

shape "a" {
  stage {
    until = "1m"
    users = var.users
  }
}

shape "b" {
  stage {
    until = "2m"
    rate  = "5/s"
  }
}

run {
  shape = "a"
}
`

func TestShapeSelection(t *testing.T) {
	path := writePlan(t, map[string]string{"plan.hcl": minimalPlan})
	env := func(k string) string {
		if k == "LAB_SHAPE" {
			return "b"
		}
		return ""
	}
	tests := []struct {
		opts     Options
		want     string
		wantFrom string
	}{
		{Options{}, "a", "run.shape"},
		{Options{Env: env}, "b", "LAB_SHAPE"},
		{Options{Env: env, Shape: "a"}, "a", "--shape"}, // the flag wins over the environment
	}
	for _, tt := range tests {
		p := mustLoad(t, path, tt.opts)
		if p.Shape.Name != tt.want || p.ShapeFrom != tt.wantFrom {
			t.Errorf("picked %s by %s, want %s by %s", p.Shape.Name, p.ShapeFrom, tt.want, tt.wantFrom)
		}
	}
	if p := mustLoad(t, path, Options{Shape: "b"}); p.Shape.Model != Open || p.Shape.Stages[0].Rate != 5 {
		t.Errorf("shape b: %+v", p.Shape)
	}
	_, diags := Load(path, Options{Shape: "c"})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `"a", "b"`) {
		t.Errorf("unknown shape: %v", diags)
	}
}

func TestStressOpenShapePickedByFlag(t *testing.T) {
	p := mustLoad(t, "../plans/stress.hcl", Options{Shape: "arrivals"})
	if p.Shape.Name != "arrivals" || p.Shape.Model != Open || !p.Shape.Stages[0].Ramp || p.Shape.Stages[0].Rate != 800 {
		t.Errorf("shape %+v", p.Shape)
	}
}

func TestRequestNames(t *testing.T) {
	path := writePlan(t, map[string]string{"plan.hcl": `
variable "id" {
  default = 7
}
workload "w" {
  host = "http://127.0.0.1:8080"
  user "u" {
    task "a" {
      get = "/items/${var.id}/reviews?sort=new"
    }
    task "b" {
      get = "/items/${random_int(1, 9)}?x=1"
    }
    task "c" {
      delete = "/carts/${uuid()}"
      name   = "/carts/:id"
    }
    task "d" {
      method = "PROPFIND"
      path   = "/dav"
    }
  }
}
shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
`})
	p := mustLoad(t, path, Options{})
	want := "DELETE /carts/:id,GET /items/${random_int(1, 9)},GET /items/7/reviews,PROPFIND /dav"
	if got := strings.Join(p.Workload.Requests, ","); got != want {
		t.Errorf("request names\n got %s\nwant %s", got, want)
	}
}

func TestValuesEvaluatePerRequest(t *testing.T) {
	p := mustLoad(t, "../plans/smoke.hcl", Options{})
	buyer := p.Workload.Users[1]
	list, cart, checkout := buyer.Tasks[0].Steps[0], buyer.Tasks[0].Steps[1], buyer.Tasks[0].Steps[2]
	if list.Path.Static() || !cart.Path.Static() || cart.Body.Value.Static() {
		t.Fatalf("static-ness: list path %v, cart path %v, cart body %v", list.Path.Static(), cart.Path.Static(), cart.Body.Value.Static())
	}
	s := p.NewScope(1, "buyer")
	pageRe := regexp.MustCompile(`^/products\?page=([0-9]+)$`)
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		path, err := list.Path.AppendText(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		m := pageRe.FindSubmatch(path)
		if m == nil {
			t.Fatalf("path %q", path)
		}
		seen[string(m[1])] = true
		body, err := cart.Body.Value.AppendJSON(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		var obj struct {
			ProductID int `json:"product_id"`
			Qty       int `json:"qty"`
		}
		if err := json.Unmarshal(body, &obj); err != nil || obj.ProductID < 1 || obj.ProductID > 500 || obj.Qty != 1 {
			t.Fatalf("cart body %s: %+v %v", body, obj, err)
		}
	}
	if len(seen) != 20 {
		t.Errorf("random_int(1, 20) gave %d distinct pages in 2000 draws, want all 20", len(seen))
	}
	// Without the capture, the checkout body cannot be built; with it, it can.
	if _, err := checkout.Body.Value.AppendJSON(nil, s); err == nil {
		t.Error("checkout body built without a captured cart_id")
	}
	s.SetCaptured("cart_id", cty.StringVal("c-42"))
	body, err := checkout.Body.Value.AppendJSON(nil, s)
	if err != nil || string(body) != `{"cart_id":"c-42"}` {
		t.Errorf("checkout body %s, %v", body, err)
	}
}

func TestSameSeedSameSequence(t *testing.T) {
	p := mustLoad(t, "../plans/smoke.hcl", Options{})
	step := p.Workload.Users[0].Tasks[1].Steps[0]
	draw := func(seed uint64, user int64) string {
		p.Seed = seed
		s := p.NewScope(user, "browser")
		var out []byte
		for i := 0; i < 20; i++ {
			out, _ = step.Path.AppendText(append(out, ' '), s)
		}
		return string(out)
	}
	if draw(1, 1) != draw(1, 1) {
		t.Error("the same seed and user gave different sequences")
	}
	if draw(1, 1) == draw(1, 2) || draw(1, 1) == draw(2, 1) {
		t.Error("different users or seeds gave the same sequence")
	}
}

type fakeResponse struct {
	status  int
	body    string
	headers map[string]string
}

func (r fakeResponse) StatusCode() int { return r.status }
func (r fakeResponse) Body() []byte    { return []byte(r.body) }
func (r fakeResponse) Header(n string) string {
	return r.headers[n]
}
func (r fakeResponse) HeaderValues(n string) []string {
	if v, ok := r.headers[n]; ok {
		return []string{v}
	}
	return nil
}
func (r fakeResponse) HeaderNames() []string {
	var out []string
	for k := range r.headers {
		out = append(out, k)
	}
	return out
}

func TestCaptureExtract(t *testing.T) {
	path := writePlan(t, map[string]string{"plan.hcl": `
workload "w" {
  host = "http://127.0.0.1:8080"
  user "u" {
    sequence "s" {
      step "a" {
        post    = "/login"
        capture = {
          token = response.headers["x-token"]
          id    = response.json.user.ids[1]
          code  = response.status
        }
      }
      step "b" {
        get     = "/users/${captured.id}"
        headers = { Authorization = "Bearer ${captured.token}" }
      }
    }
  }
}
shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
`})
	p := mustLoad(t, path, Options{})
	steps := p.Workload.Users[0].Tasks[0].Steps
	s := p.NewScope(3, "u")
	resp := fakeResponse{status: 201, body: `{"user":{"ids":[5,17]}}`, headers: map[string]string{"X-Token": "abc"}}
	for _, c := range steps[0].Captures {
		v, err := c.Extract(s, resp)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		s.SetCaptured(c.Name, v)
	}
	path2, err := steps[1].Path.AppendText(nil, s)
	if err != nil || string(path2) != "/users/17" {
		t.Errorf("path %q, %v", path2, err)
	}
	h, err := steps[1].Headers[0].Value.AppendText(nil, s)
	if err != nil || string(h) != "Bearer abc" {
		t.Errorf("header %q, %v", h, err)
	}
	if v, _ := s.Captured("code"); v.AsBigFloat().String() != "201" {
		t.Errorf("status capture %#v", v)
	}
	// A response without the field fails the capture, naming it.
	_, err = steps[0].Captures[1].Extract(s, fakeResponse{status: 200, body: `{"user":{}}`})
	if err == nil || !strings.Contains(err.Error(), "capture id") {
		t.Errorf("missing field: %v", err)
	}
	_, err = steps[0].Captures[1].Extract(s, fakeResponse{status: 200, body: `not json`})
	if err == nil {
		t.Error("a body that is not JSON captured a JSON field")
	}
}

func TestUUIDAndJSONEscaping(t *testing.T) {
	path := writePlan(t, map[string]string{"plan.hcl": `
workload "w" {
  host = "http://127.0.0.1:8080"
  user "u" {
    task "t" {
      post = "/x"
      json = { id = uuid(), note = "q\"${random_choice(["a\nb", "c"])}\\", n = [user.id, random_float(0, 1)] }
    }
  }
}
shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
`})
	p := mustLoad(t, path, Options{})
	body := p.Workload.Users[0].Tasks[0].Steps[0].Body.Value
	s := p.NewScope(9, "u")
	uuidRe := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for i := 0; i < 100; i++ {
		b, err := body.AppendJSON(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			ID   string    `json:"id"`
			Note string    `json:"note"`
			N    []float64 `json:"n"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("invalid JSON %s: %v", b, err)
		}
		if !uuidRe.MatchString(v.ID) || (v.Note != "q\"a\nb\\" && v.Note != "q\"c\\") || len(v.N) != 2 || v.N[0] != 9 || v.N[1] < 0 || v.N[1] > 1 {
			t.Fatalf("body %s", b)
		}
	}
}

func TestSLAGlobs(t *testing.T) {
	p := mustLoad(t, "../plans/baseline.hcl", Options{})
	var products *SLA
	for _, s := range p.SLAs {
		if s.Label == "GET /products*" {
			products = s
		}
	}
	if products == nil || strings.Join(products.Matches, ",") != "GET /products,GET /products/:id" {
		t.Fatalf("GET /products* matches %v", products)
	}
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"GET /products/*", "GET /products/:id", true},
		{"GET /products/*", "GET /products", false},
		{"* /checkout", "POST /checkout", true},
		{"*", "GET /", true},
		{"GET /*/x", "GET /a/b/x", true}, // * crosses slashes
		{"GET /a", "GET /ab", false},
	} {
		if got := globMatch(tt.pattern, tt.name); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.pattern, tt.name, got)
		}
	}
}

func TestRequestSharesOfSharedWorkload(t *testing.T) {
	p := mustLoad(t, "../plans/smoke.hcl", Options{})
	shares, _ := p.RequestShares()
	var total float64
	for _, s := range shares {
		total += s
	}
	// Browsers: 3 of 4 users, a pass per 2 s on average, 40% home.
	// Buyers: 1 of 4 users, a 3-request pass per 1 s.
	home := 0.75 / 2 * 0.4
	checkout := 0.25 / 1
	if got := shares["GET /"] / total; math.Abs(got-home/(0.75/2+0.25*3)) > 1e-9 {
		t.Errorf("GET / share %.4f", got)
	}
	if got := shares["POST /checkout"] / total; math.Abs(got-checkout/(0.75/2+0.25*3)) > 1e-9 {
		t.Errorf("POST /checkout share %.4f", got)
	}
	open := mustLoad(t, "../plans/leak-test.hcl", Options{})
	shares, basis := open.RequestShares()
	if !strings.Contains(basis, "arrivals") || math.Abs(shares["POST /checkout"]-0.25) > 1e-9 {
		t.Errorf("open model shares %v (%s)", shares, basis)
	}
}

func TestDiffMarksLoosenedBudgets(t *testing.T) {
	src, _ := os.ReadFile("../plans/spike.hcl")
	wl, _ := os.ReadFile("../plans/shop.workload.hcl")
	shapes, _ := os.ReadFile("../plans/shop.shapes.hcl")
	load := func(edit func(string) string) *Plan {
		path := writePlan(t, map[string]string{"plan.hcl": edit(string(src)), "shop.workload.hcl": string(wl), "shop.shapes.hcl": string(shapes)})
		return mustLoad(t, path, Options{})
	}
	base := load(func(s string) string { return s })
	raised := load(func(s string) string { return strings.Replace(s, `p95 = "200ms"`, `p95 = "300ms"`, 1) })
	removed := load(func(s string) string {
		return strings.Replace(s, "sla \"GET /\" {\n  p95 = \"200ms\"\n}\n", "", 1)
	})
	find := func(cs []Change, key string) *Change {
		for i := range cs {
			if cs[i].Key == key {
				return &cs[i]
			}
		}
		return nil
	}
	key := `sla "GET /" p95`
	if c := find(Diff(base, raised), key); c == nil || !c.Loosened || c.Old != "200ms" || c.New != "300ms" {
		t.Errorf("raising p95: %+v", c)
	}
	if c := find(Diff(raised, base), key); c == nil || !c.Tightened || c.Loosened {
		t.Errorf("lowering p95: %+v", c)
	}
	if c := find(Diff(base, removed), key); c == nil || c.Kind != Removed || !c.Loosened {
		t.Errorf("removing the budget: %+v", c)
	}
	if cs := Diff(base, base); len(cs) != 0 {
		t.Errorf("a plan differs from itself: %+v", cs)
	}
	text := DiffText(Diff(base, raised))
	if !strings.Contains(text, "LOOSENED") || !strings.Contains(text, "300ms") {
		t.Errorf("diff text:\n%s", text)
	}
	// Failing only beyond chance lets more through than failing when over.
	lenient := load(func(s string) string {
		return strings.Replace(s, "sla \"GET /\" {\n", "sla \"GET /\" {\n  breach = \"significant\"\n", 1)
	})
	if c := find(Diff(base, lenient), `sla "GET /" breach`); c == nil || !c.Loosened || c.Old != "measured" || c.New != "significant" {
		t.Errorf("breach measured → significant: %+v", c)
	}
}

// The breach rule: "measured" unless the plan opts in to "significant",
// for every sla block (run.sla_breach) or one (breach), the block's own
// setting winning.
func TestSLABreachRule(t *testing.T) {
	src := func(run, sla string) string {
		return `
workload "w" {
  host = "http://127.0.0.1:1"
  user "u" {
    task "a" {
      get = "/a"
    }
    task "b" {
      get = "/b"
    }
  }
}
shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
` + run + `
sla "GET /a" {
  p95 = "1s"
` + sla + `
}
sla "GET /b" {
  error_rate = "1%"
}
`
	}
	for _, c := range []struct {
		run, sla string
		a, b     Breach
	}{
		{"", "", BreachMeasured, BreachMeasured},
		{"", `breach = "significant"`, BreachSignificant, BreachMeasured},
		{`run { sla_breach = "significant" }`, "", BreachSignificant, BreachSignificant},
		{`run { sla_breach = "significant" }`, `breach = "measured"`, BreachMeasured, BreachSignificant},
	} {
		p := mustLoad(t, writePlan(t, map[string]string{"plan.hcl": src(c.run, c.sla)}), Options{})
		if p.SLAs[0].Breach != c.a || p.SLAs[1].Breach != c.b {
			t.Errorf("%q %q: breach %q, %q; want %q, %q", c.run, c.sla, p.SLAs[0].Breach, p.SLAs[1].Breach, c.a, c.b)
		}
		if got := strings.Contains(p.Summary(), "beyond chance"); got != (c.a == BreachSignificant || c.b == BreachSignificant) {
			t.Errorf("%q %q: summary names the rule: %v\n%s", c.run, c.sla, got, p.Summary())
		}
	}
	if _, diags := Load(writePlan(t, map[string]string{"plan.hcl": src("", `breach = "maybe"`)}), Options{}); !diags.HasErrors() ||
		!strings.Contains(diags.Error(), `"measured", "significant"`) {
		t.Errorf("breach = \"maybe\" accepted: %v", diags)
	}
}

func TestWarningsDoNotFailTheLoad(t *testing.T) {
	path := writePlan(t, map[string]string{"plan.hcl": `
workload "w" {
  host = "http://127.0.0.1:8080"
  user "u" {
    task "t" {
      get = "/"
    }
  }
}
shape "s" {
  stage {
    until      = "10s"
    users      = 100
    spawn_rate = 1
  }
}
`})
	p, diags := Load(path, Options{})
	if p == nil || diags.HasErrors() || len(diags) != 1 || diags[0].Severity != hcl.DiagWarning {
		t.Fatalf("want one warning about the ramp, got %v", diags)
	}
	if !strings.Contains(diags[0].Detail, "1m40s") {
		t.Errorf("warning %q does not say how long the ramp takes", diags[0].Detail)
	}
}

// A pathological label must not make matching exponential: with
// backtracking into every star this would not return within the test
// binary's timeout.
func TestGlobMatchPathological(t *testing.T) {
	pattern := strings.Repeat("*a", 40) + "*b"
	if globMatch(pattern, strings.Repeat("a", 200)) {
		t.Error("matched a name without b")
	}
	if !globMatch(pattern, strings.Repeat("a", 200)+"b") {
		t.Error("did not match a name that ends in b")
	}
}

// A plan reads files only in its own folder: not by ../, not by an
// absolute path, not through a link that leads out; AllowOutside lifts it.
func TestSourcesStayInThePlansFolder(t *testing.T) {
	outside := t.TempDir()
	wl, _ := os.ReadFile("../plans/shop.workload.hcl")
	if err := os.WriteFile(filepath.Join(outside, "secret.workload.hcl"), wl, 0o644); err != nil {
		t.Fatal(err)
	}
	shape := "shape \"s\" {\n  stage {\n    until = \"1m\"\n    users = 1\n  }\n}\n"
	plan := func(source string) string {
		return fmt.Sprintf("workload \"w\" {\n  host   = \"http://127.0.0.1:1\"\n  source = %q\n}\n%s", source, shape)
	}
	linked := writePlan(t, map[string]string{"plan.hcl": plan("link.workload.hcl")})
	if err := os.Symlink(filepath.Join(outside, "secret.workload.hcl"), filepath.Join(filepath.Dir(linked), "link.workload.hcl")); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"../":      writePlan(t, map[string]string{"plan.hcl": plan(filepath.Join("..", filepath.Base(outside), "secret.workload.hcl"))}),
		"absolute": writePlan(t, map[string]string{"plan.hcl": plan(filepath.Join(outside, "secret.workload.hcl"))}),
		"link":     linked,
	} {
		if strings.HasPrefix(name, "../") {
			// writePlan made a folder of its own: reach the other one from it.
			rel, _ := filepath.Rel(filepath.Dir(path), filepath.Join(outside, "secret.workload.hcl"))
			os.WriteFile(path, []byte(plan(rel)), 0o644)
		}
		_, diags := Load(path, Options{})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), "outside the plan's folder") {
			t.Errorf("%s: want the folder rule, got %v", name, diags)
		}
		if _, diags := Load(path, Options{AllowOutside: true}); diags.HasErrors() {
			t.Errorf("%s with AllowOutside: %v", name, diags)
		}
	}
	// Below the plan's folder is inside.
	below := writePlan(t, map[string]string{"plan.hcl": plan("parts/shop.workload.hcl")})
	os.MkdirAll(filepath.Join(filepath.Dir(below), "parts"), 0o755)
	os.WriteFile(filepath.Join(filepath.Dir(below), "parts", "shop.workload.hcl"), wl, 0o644)
	if _, diags := Load(below, Options{}); diags.HasErrors() {
		t.Errorf("a subfolder: %v", diags)
	}
}

// TestDiffMarksLoosenedMeasureBudgets: a measure's upper bound raised or
// its lower bound lowered loosens it, as an sla's does.
func TestDiffMarksLoosenedMeasureBudgets(t *testing.T) {
	src := func(budget string) string {
		return `
workload "w" {
  host = "http://127.0.0.1:1"
  user "u" {
    task "a" {
      get     = "/a"
      measure = { items = length(response.json.items) }
    }
  }
}
shape "s" {
  stage {
    until = "10s"
    users = 1
  }
}
measure "items" {
  ` + budget + `
}
`
	}
	load := func(budget string) *Plan {
		return mustLoad(t, writePlan(t, map[string]string{"plan.hcl": src(budget)}), Options{})
	}
	for _, c := range []struct{ old, new, key string }{
		{"avg = 8", "avg = 9", `measure "items" avg`},
		{"p95 = 10", "p95 = 20", `measure "items" p95`},
		{"min = 2", "min = 1", `measure "items" min`},
	} {
		cs := Diff(load(c.old), load(c.new))
		if len(cs) != 1 || cs[0].Key != c.key || !cs[0].Loosened {
			t.Errorf("%s → %s: %+v", c.old, c.new, cs)
		}
		if back := Diff(load(c.new), load(c.old)); len(back) != 1 || !back[0].Tightened {
			t.Errorf("%s → %s: %+v", c.new, c.old, back)
		}
	}
}
