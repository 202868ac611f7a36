package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"lab/gates/exitcode"
	"lab/lang/units"
	"lab/sut"
)

const sutAbout = `Run the bundled misbehaving shop: GET /, GET /products?page=N,
GET /products/{id}, POST /cart, GET /cart/{id}, POST /checkout, GET /healthz,
GET /metrics. Every knob below is also read from LAB_SUT_<KNOB> (e.g.
LAB_SUT_ERROR_RATE=0.1); a flag wins over its variable. Durations are Go
durations ("20ms"), sizes "50KB"/"5MiB", ratios "0.1" or "10%". The admin
endpoint (GET/PUT /admin/knobs) exists only when an admin token is set; pass it
as LAB_SUT_ADMIN_TOKEN, since flags show in ps. SIGINT/SIGTERM shut it down
gracefully.`

// sutFlagHelp is each knob's help line, by knob name.
var sutFlagHelp = map[string]string{
	"listen":           "host:port to listen on",
	"seed":             "seed of the catalogue and of every random decision",
	"products":         "catalogue size (product ids 1..N)",
	"latency":          "base latency added to every shop route",
	"latency_jitter":   "uniform ± jitter around the base latency",
	"route_latency":    `per-route base latency, 'ROUTE=DURATION' (repeat or comma-separate), e.g. 'POST /checkout=50ms'`,
	"tail_ratio":       "share of requests that are slow",
	"tail_factor":      "how many times slower the slow requests are (≥ 1)",
	"error_rate":       "share of requests answered 500",
	"wrong_rate":       "share of checkouts answered 200 OK without order_id",
	"leak_per_request": "bytes retained forever per checkout",
	"contention":       "time each checkout holds the one shared lock",
	"gc_churn":         "short-lived garbage allocated per request",
	"admin_token":      "token of the admin endpoint (prefer LAB_SUT_ADMIN_TOKEN)",
}

func runSUT(env *cmdEnv, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runSUTContext(ctx, env, args)
}

// runSUTContext is `lab sut` stopped by ctx instead of a signal, for tests.
func runSUTContext(ctx context.Context, env *cmdEnv, args []string) int {
	k, fs, stop, code := parseSUTArgs(env, args)
	if stop {
		return code
	}
	if fs.Changed("admin-token") {
		fmt.Fprintln(env.stderr, "lab sut: note: --admin-token shows in ps; prefer LAB_SUT_ADMIN_TOKEN")
	}
	printKnobs(env.stdout, k)
	if err := sut.Run(ctx, k, env.stdout); err != nil {
		fmt.Fprintf(env.stderr, "lab sut: %v\n", err)
		return exitcode.CouldNotRun
	}
	fmt.Fprintln(env.stdout, "stopped")
	return exitcode.OK
}

// parseSUTArgs reads the knobs from flags, then LAB_SUT_* variables, then the
// defaults. It prints what is wrong and returns stop when the command should
// end here.
func parseSUTArgs(env *cmdEnv, args []string) (k sut.Knobs, fs *pflag.FlagSet, stop bool, code int) {
	fs = newFlags("sut")
	def := sut.DefaultKnobs()
	specs := sut.KnobSpecs()
	raw := make(map[string]*knobFlag, len(specs))
	for _, s := range specs {
		help := sutFlagHelp[s.Name] + " [" + s.Env + "]"
		raw[s.Name] = &knobFlag{kind: s.Kind, repeat: s.Kind == "routes"}
		fs.Var(raw[s.Name], s.Flag, help)
		fs.Lookup(s.Flag).DefValue = defaultText(def, s.Name)
	}
	synopsis := "lab sut [--listen 127.0.0.1:8080] [--error-rate 0.1] [--leak-per-request 50KB] …"
	if stop, code := parseFlags(env, fs, args, synopsis, sutAbout); stop {
		return k, fs, true, code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "lab sut: unexpected argument %q; knobs are flags, like --error-rate 0.1\n", fs.Arg(0))
		return k, fs, true, exitcode.BadInput
	}

	k = def
	var errs []error
	source := map[string]string{} // knob name → the flag or variable it came from
	for _, s := range specs {
		values := raw[s.Name].values
		switch {
		case fs.Changed(s.Flag):
			source[s.Name] = "--" + s.Flag
		case env.getenv(s.Env) != "":
			values, source[s.Name] = []string{env.getenv(s.Env)}, s.Env
		default:
			continue
		}
		// A value that does not parse leaves the default, so that the range
		// check below reports only on values that parsed.
		next := k
		if err := setKnob(&next, s, values); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", source[s.Name], err))
			continue
		}
		k = next
	}
	if err := k.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		for _, err := range errs {
			for _, line := range strings.Split(err.Error(), "\n") {
				// Validate names knobs; say which flag or variable set them.
				if name, rest, ok := strings.Cut(line, ": "); ok && source[name] != "" {
					line = source[name] + ": " + rest
				}
				fmt.Fprintf(env.stderr, "lab sut: %s\n", line)
			}
		}
		fmt.Fprintln(env.stderr, "Run 'lab sut -h' for the knobs and their units.")
		return k, fs, true, exitcode.BadInput
	}
	return k, fs, false, exitcode.OK
}

// knobFlag holds a knob's flag text as given; it is parsed after the
// environment is read, so that errors can name where a value came from.
type knobFlag struct {
	kind   string
	repeat bool // route_latency may be given several times
	values []string
}

func (f *knobFlag) String() string { return strings.Join(f.values, ",") }
func (f *knobFlag) Type() string   { return f.kind }
func (f *knobFlag) Set(v string) error {
	if f.repeat {
		f.values = append(f.values, v)
	} else {
		f.values = []string{v}
	}
	return nil
}

// setKnob parses one knob's raw value(s) with the project's unit parsers.
func setKnob(k *sut.Knobs, s sut.KnobSpec, raw []string) error {
	v := strings.TrimSpace(raw[0])
	var err error
	switch s.Name {
	case "listen":
		k.Listen = v
	case "seed":
		k.Seed, err = strconv.ParseInt(v, 10, 64)
		if err != nil {
			err = fmt.Errorf("%q is not an integer", v)
		}
	case "products":
		k.Products, err = strconv.Atoi(v)
		if err != nil {
			err = fmt.Errorf("%q is not an integer", v)
		}
	case "latency":
		k.Latency, err = units.ParseDuration(v)
	case "latency_jitter":
		k.LatencyJitter, err = units.ParseDuration(v)
	case "route_latency":
		k.RouteLatency, err = parseRouteLatency(raw)
	case "tail_ratio":
		k.TailRatio, err = units.ParseRatio(v)
	case "tail_factor":
		k.TailFactor, err = strconv.ParseFloat(v, 64)
		if err != nil {
			err = fmt.Errorf("%q is not a number", v)
		}
	case "error_rate":
		k.ErrorRate, err = units.ParseRatio(v)
	case "wrong_rate":
		k.WrongRate, err = units.ParseRatio(v)
	case "leak_per_request":
		k.LeakPerRequest, err = units.ParseSize(v)
	case "contention":
		k.Contention, err = units.ParseDuration(v)
	case "gc_churn":
		k.GCChurn, err = units.ParseSize(v)
	case "admin_token":
		k.AdminToken = v
	default:
		err = fmt.Errorf("knob %q has no parser in lab sut", s.Name) // a programmer bug: KnobSpecs grew
	}
	return err
}

// parseRouteLatency reads 'ROUTE=DURATION' entries, each value possibly
// holding several separated by commas.
func parseRouteLatency(raw []string) (map[string]time.Duration, error) {
	m := map[string]time.Duration{}
	for _, r := range raw {
		for _, entry := range strings.Split(r, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			i := strings.LastIndexByte(entry, '=')
			if i < 0 {
				return nil, fmt.Errorf("%q is not ROUTE=DURATION, like 'POST /checkout=50ms'", entry)
			}
			route := strings.Join(strings.Fields(entry[:i]), " ")
			if !isRoute(route) {
				return nil, fmt.Errorf("unknown route %q%s; routes are %s", route, suggest(route, sut.Routes), strings.Join(sut.Routes, ", "))
			}
			if _, dup := m[route]; dup {
				return nil, fmt.Errorf("route %q is given twice", route)
			}
			d, err := units.ParseDuration(entry[i+1:])
			if err != nil {
				return nil, fmt.Errorf("%s: %v", route, err)
			}
			m[route] = d
		}
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

func isRoute(r string) bool {
	for _, x := range sut.Routes {
		if x == r {
			return true
		}
	}
	return false
}

// knobText prints a knob's value in the plan language's units.
func knobText(k sut.Knobs, name string) string {
	switch name {
	case "listen":
		return k.Listen
	case "seed":
		return strconv.FormatInt(k.Seed, 10)
	case "products":
		return strconv.Itoa(k.Products)
	case "latency":
		return units.FormatDuration(k.Latency)
	case "latency_jitter":
		return units.FormatDuration(k.LatencyJitter)
	case "route_latency":
		var parts []string
		for _, r := range sut.Routes {
			if d, ok := k.RouteLatency[r]; ok {
				parts = append(parts, r+"="+units.FormatDuration(d))
			}
		}
		return strings.Join(parts, ", ")
	case "tail_ratio":
		return units.FormatRatio(k.TailRatio)
	case "tail_factor":
		return strconv.FormatFloat(k.TailFactor, 'f', -1, 64)
	case "error_rate":
		return units.FormatRatio(k.ErrorRate)
	case "wrong_rate":
		return units.FormatRatio(k.WrongRate)
	case "leak_per_request":
		return units.FormatSize(k.LeakPerRequest)
	case "contention":
		return units.FormatDuration(k.Contention)
	case "gc_churn":
		return units.FormatSize(k.GCChurn)
	case "admin_token":
		if k.AdminToken == "" {
			return ""
		}
		return "set"
	}
	return "?"
}

// defaultText is the default shown in -h; empty for knobs whose default is off.
func defaultText(def sut.Knobs, name string) string {
	switch name {
	case "listen", "seed", "products", "tail_factor":
		return knobText(def, name)
	}
	return ""
}

func printKnobs(w io.Writer, k sut.Knobs) {
	fmt.Fprintf(w, "lab sut: the misbehaving shop (pid %d)\n", os.Getpid())
	for _, s := range sut.KnobSpecs() {
		v := knobText(k, s.Name)
		switch {
		case s.Name == "admin_token" && v == "":
			v = "not set (admin endpoint off)"
		case s.Name == "admin_token":
			v = "set (admin endpoint on)"
		case s.Name == "route_latency" && v == "":
			v = "none"
		}
		fmt.Fprintf(w, "  %-17s %s\n", s.Name, v)
	}
	if host, _, err := net.SplitHostPort(k.Listen); err == nil {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			fmt.Fprintf(w, "note: listening beyond loopback (%s); anyone who reaches this address can load the shop\n", k.Listen)
		}
	}
}
