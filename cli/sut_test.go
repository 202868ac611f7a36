package cli

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"lab/cli/clitest"
	"lab/gates/exitcode"
	"lab/sut"
)

// sutTestEnv is a command environment with captured streams and the given
// variables.
func sutTestEnv(vars map[string]string) (*cmdEnv, *clitest.SyncBuffer, *clitest.SyncBuffer) {
	out, errs := &clitest.SyncBuffer{}, &clitest.SyncBuffer{}
	return &cmdEnv{stdout: out, stderr: errs, getenv: func(k string) string { return vars[k] }}, out, errs
}

// sutCommand runs lab sut stopped by ctx, as dispatch runs it: what it
// says goes to env's stderr, and it returns the exit code.
func sutCommand(ctx context.Context, env *cmdEnv, args []string) int {
	env.command = "sut"
	return exit(env, runSUTContext(ctx, env, args))
}

// sameKnobs compares knob sets, taking an empty route map for none.
func sameKnobs(a, b sut.Knobs) bool {
	if len(a.RouteLatency) == 0 {
		a.RouteLatency = nil
	}
	if len(b.RouteLatency) == 0 {
		b.RouteLatency = nil
	}
	return reflect.DeepEqual(a, b)
}

// TestSUTArgsRoundTrip: for any valid knob set k, `lab sut` reads k.Args()
// back to exactly k.
func TestSUTArgsRoundTrip(t *testing.T) {
	full := sut.DefaultKnobs()
	full.Listen = "0.0.0.0:9999"
	full.Seed = -42
	full.Products = 12345
	full.Latency = 1500 * time.Microsecond
	full.LatencyJitter = 3*time.Millisecond + 7
	full.RouteLatency = map[string]time.Duration{"POST /checkout": 50 * time.Millisecond, "GET /": time.Hour / 7, "GET /cart/{id}": 0}
	full.TailRatio = 0.01
	full.TailFactor = 12.5
	full.ErrorRate = 1.0 / 3
	full.WrongRate = 1
	full.LeakPerRequest = 51_200
	full.Contention = 9*time.Minute + 59*time.Second
	full.GCChurn = 1<<30 - 1
	full.AdminToken = "tok-with=equals,and,commas"

	cases := []sut.Knobs{sut.DefaultKnobs(), full}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		cases = append(cases, randomKnobs(rng))
	}
	for _, k := range cases {
		if err := k.Validate(); err != nil {
			t.Fatalf("test case is invalid: %v", err)
		}
		env, _, errs := sutTestEnv(nil)
		got, _, err := parseSUTArgs(env, k.Args())
		if err != nil {
			t.Fatalf("lab sut %q: %v: %s", k.Args(), err, errs)
		}
		if !sameKnobs(got, k) {
			t.Fatalf("lab sut %q read\n%+v, want\n%+v", k.Args(), got, k)
		}
	}
}

func randomKnobs(rng *rand.Rand) sut.Knobs {
	k := sut.DefaultKnobs()
	maybe := func() bool { return rng.IntN(2) == 0 }
	dur := func() time.Duration { return time.Duration(rng.Int64N(int64(10 * time.Minute))) }
	ratio := func() float64 { return rng.Float64() }
	if maybe() {
		k.Listen = "127.0.0.1:" + strconv.Itoa(rng.IntN(65536))
	}
	if maybe() {
		k.Seed = rng.Int64() - math.MaxInt64/2
	}
	if maybe() {
		k.Products = 1 + rng.IntN(100_000)
	}
	if maybe() {
		k.Latency, k.LatencyJitter = dur(), dur()
	}
	if maybe() {
		k.RouteLatency = map[string]time.Duration{}
		for _, r := range sut.Routes {
			if maybe() {
				k.RouteLatency[r] = dur()
			}
		}
	}
	if maybe() {
		k.TailRatio, k.TailFactor = ratio(), 1+999*rng.Float64()
	}
	if maybe() {
		k.ErrorRate, k.WrongRate = ratio(), ratio()
	}
	if maybe() {
		k.LeakPerRequest, k.GCChurn = rng.Int64N(1<<30), rng.Int64N(1<<30)
	}
	if maybe() {
		k.Contention = dur()
	}
	return k
}

// TestSUTFlagsAndEnv: units as people write them, variables under flags.
func TestSUTFlagsAndEnv(t *testing.T) {
	env, _, errs := sutTestEnv(map[string]string{
		"LAB_SUT_ERROR_RATE":    "10%",
		"LAB_SUT_WRONG_RATE":    "0.05",
		"LAB_SUT_LATENCY":       "1d", // a flag below wins over it
		"LAB_SUT_ROUTE_LATENCY": "GET /=1ms, POST /cart=2ms",
		"LAB_SUT_ADMIN_TOKEN":   "from-the-environment",
	})
	k, _, err := parseSUTArgs(env, []string{
		"--listen", "127.0.0.1:0", "--latency", "20ms", "--leak-per-request", "50KB",
		"--gc-churn=1MiB", "--tail-ratio", "1%", "--contention", "2ms",
	})
	if err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	want := sut.DefaultKnobs()
	want.Listen = "127.0.0.1:0"
	want.Latency = 20 * time.Millisecond
	want.LeakPerRequest = 50_000
	want.GCChurn = 1 << 20
	want.TailRatio = 0.01
	want.Contention = 2 * time.Millisecond
	want.ErrorRate = 0.1
	want.WrongRate = 0.05
	want.RouteLatency = map[string]time.Duration{"GET /": time.Millisecond, "POST /cart": 2 * time.Millisecond}
	want.AdminToken = "from-the-environment"
	if !sameKnobs(k, want) {
		t.Errorf("read\n%+v, want\n%+v", k, want)
	}

	// Repeated and comma-separated route flags add up; the flag replaces the variable.
	env, _, errs = sutTestEnv(map[string]string{"LAB_SUT_ROUTE_LATENCY": "GET /=1ms"})
	k, _, err = parseSUTArgs(env, []string{"--route-latency", "POST /checkout=50ms", "--route-latency", "GET /products=1ms,GET /products/{id}=2ms"})
	wantRoutes := map[string]time.Duration{"POST /checkout": 50 * time.Millisecond, "GET /products": time.Millisecond, "GET /products/{id}": 2 * time.Millisecond}
	if err != nil || !reflect.DeepEqual(k.RouteLatency, wantRoutes) {
		t.Errorf("route latency %v, want %v (%s)", k.RouteLatency, wantRoutes, errs)
	}
}

func TestSUTRefusesBadInput(t *testing.T) {
	cases := []struct {
		args []string
		vars map[string]string
		says string
	}{
		{[]string{"--error-rate", "1.5"}, nil, "--error-rate: 1.5 is out of range"},
		{[]string{"--error-rate", "lots"}, nil, `--error-rate: invalid ratio "lots"`},
		{[]string{"--latency", "20"}, nil, `--latency: "20" has no unit`},
		{[]string{"--leak-per-request", "50"}, nil, "--leak-per-request: size \"50\" has no unit"},
		{[]string{"--gc-churn", "5 parsecs"}, nil, "unknown size unit"},
		{[]string{"--route-latency", "GET /product=1ms"}, nil, `unknown route "GET /product" (did you mean "GET /products"?)`},
		{[]string{"--route-latency", "POST /checkout"}, nil, "not ROUTE=DURATION"},
		{[]string{"--route-latency", "GET /=1ms,GET /=2ms"}, nil, "given twice"},
		{[]string{"--seed", "x"}, nil, `--seed: "x" is not an integer`},
		{[]string{"--products", "0"}, nil, "products"},
		{[]string{"--tail-factor", "0.5"}, nil, "--tail-factor: 0.5 is out of range"},
		{[]string{"--tail-factor", "x"}, nil, `--tail-factor: "x" is not a number`},
		{[]string{"--listen", "8080"}, nil, "listen"},
		{[]string{"--no-such-knob", "1"}, nil, "unknown flag"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
		{nil, map[string]string{"LAB_SUT_WRONG_RATE": "-1"}, "LAB_SUT_WRONG_RATE: ratio \"-1\" is negative"},
		{nil, map[string]string{"LAB_SUT_ADMIN_TOKEN": "short"}, "LAB_SUT_ADMIN_TOKEN: too short"},
		{nil, map[string]string{"LAB_SUT_ERROR_RATE": "4"}, "LAB_SUT_ERROR_RATE: 4 is out of range"},
	}
	for _, c := range cases {
		env, _, errs := sutTestEnv(c.vars)
		if code := sutCommand(context.Background(), env, c.args); code != exitcode.BadInput {
			t.Errorf("lab sut %q %v: exit %d, want %d", c.args, c.vars, code, exitcode.BadInput)
		}
		if !strings.Contains(errs.String(), c.says) {
			t.Errorf("lab sut %q %v said:\n%s\nwant it to say %q", c.args, c.vars, errs, c.says)
		}
	}
}

// TestSUTReportsEachMistakeOnce: a value that does not parse is reported as
// such, not again as out of range.
func TestSUTReportsEachMistakeOnce(t *testing.T) {
	env, _, errs := sutTestEnv(nil)
	sutCommand(context.Background(), env, []string{"--tail-factor", "x", "--products", "0"})
	if n := strings.Count(errs.String(), "lab sut: "); n != 2 || strings.Contains(errs.String(), "tail-factor: 0") {
		t.Errorf("two mistakes, reported as:\n%s", errs)
	}
}

// TestSUTRuns: `lab sut` prints its knobs, serves with them, and exits 0
// when told to stop.
func TestSUTRuns(t *testing.T) {
	env, out, errs := sutTestEnv(map[string]string{"LAB_SUT_ADMIN_TOKEN": "a-long-enough-token"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- sutCommand(ctx, env, []string{"--listen", "127.0.0.1:0", "--error-rate", "10%", "--leak-per-request", "50KB"})
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(out.String(), "\n") {
			if addr, ok := strings.CutPrefix(line, sut.ReadyPrefix); ok {
				base = "http://" + addr
			}
		}
		select {
		case code := <-done:
			t.Fatalf("lab sut exited %d: %s%s", code, out, errs)
		default:
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no ready line; printed:\n%s%s", out, errs)
	}
	for _, want := range []string{"error_rate        10%", "leak_per_request  50KB", "admin_token       set (admin endpoint on)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("start-up print lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "a-long-enough-token") {
		t.Error("the token was printed")
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`shop_knob{knob="error_rate"} 0.1`, `shop_knob{knob="leak_per_request"} 50000`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != exitcode.OK {
			t.Errorf("exit %d after stop: %s", code, errs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("lab sut did not stop")
	}
}

func TestSUTHelpListsEveryKnob(t *testing.T) {
	env, out, _ := sutTestEnv(nil)
	if code := sutCommand(context.Background(), env, []string{"-h"}); code != exitcode.OK {
		t.Fatalf("lab sut -h: exit %d", code)
	}
	for _, s := range sut.KnobSpecs() {
		if !strings.Contains(out.String(), "--"+s.Flag) || !strings.Contains(out.String(), s.Env) {
			t.Errorf("lab sut -h does not list --%s / %s", s.Flag, s.Env)
		}
	}
}
