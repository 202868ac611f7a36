package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"lab/gates/exitcode"
	"lab/lang/shopknobs"
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

func runSUT(env *cmdEnv, args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runSUTContext(ctx, env, args)
}

// runSUTContext is `lab sut` stopped by ctx instead of a signal, for tests.
func runSUTContext(ctx context.Context, env *cmdEnv, args []string) error {
	k, fs, err := parseSUTArgs(env, args)
	if err != nil {
		return err
	}
	if fs.Changed("admin-token") {
		env.notef("note: --admin-token shows in ps; prefer LAB_SUT_ADMIN_TOKEN")
	}
	printKnobs(env.stdout, k)
	if err := sut.Run(ctx, k, env.stdout); err != nil {
		return failf(exitcode.CouldNotRun, "%v", err)
	}
	fmt.Fprintln(env.stdout, "stopped")
	return nil
}

// parseSUTArgs reads the knobs from flags, then LAB_SUT_* variables, then the
// defaults.
func parseSUTArgs(env *cmdEnv, args []string) (sut.Knobs, *pflag.FlagSet, error) {
	fs := newFlags("sut")
	def := sut.DefaultKnobs()
	specs := sut.KnobSpecs()
	raw := make(map[string]*knobFlag, len(specs))
	for _, s := range specs {
		help := s.Doc + " [" + s.Env + "]"
		raw[s.Name] = &knobFlag{kind: s.Kind, repeat: s.Kind == shopknobs.KindRoutes}
		fs.Var(raw[s.Name], s.Flag, help)
		fs.Lookup(s.Flag).DefValue = defaultText(def, s.Name)
	}
	synopsis := "lab sut [--listen 127.0.0.1:8080] [--error-rate 0.1] [--leak-per-request 50KB] …"
	if err := parseFlags(env, fs, args, synopsis, sutAbout); err != nil {
		return def, fs, err
	}
	if fs.NArg() > 0 {
		return def, fs, failf(exitcode.BadInput, "unexpected argument %q; knobs are flags, like --error-rate 0.1", fs.Arg(0))
	}

	var settings []knobSetting
	for _, s := range specs {
		switch {
		case fs.Changed(s.Flag):
			// Repeated route_latency flags add up, as one comma-separated list.
			settings = append(settings, knobSetting{s.Name, strings.Join(raw[s.Name].values, ","), "--" + s.Flag})
		case env.getenv(s.Env) != "":
			settings = append(settings, knobSetting{s.Name, env.getenv(s.Env), s.Env})
		}
	}
	k, problems := setKnobs(def, settings)
	if len(problems) > 0 {
		for _, p := range problems {
			env.notef("%s", p)
		}
		fmt.Fprintln(env.stderr, "Run 'lab sut -h' for the knobs and their units.")
		return k, fs, exitWith(exitcode.BadInput)
	}
	return k, fs, nil
}

// knobSetting is one knob's text and where it came from: a flag, a
// variable or a plan's file:line, which each problem with it names.
type knobSetting struct{ name, text, source string }

// setKnobs sets each knob on k and checks the result. It returns the knobs
// and every problem, one line each, naming where the faulty text came from.
// A value that does not parse leaves the default, so that the range check
// reports only on values that parsed: each mistake is reported once.
func setKnobs(k sut.Knobs, settings []knobSetting) (sut.Knobs, []string) {
	var problems []string
	source := map[string]string{} // knob name → where its text came from
	for _, s := range settings {
		source[s.name] = s.source
		if err := k.Set(s.name, s.text); err != nil {
			problems = append(problems, s.source+": "+err.Error())
		}
	}
	if err := k.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			// Validate names knobs; say which flag, variable or line set them.
			if name, rest, ok := strings.Cut(line, ": "); ok && source[name] != "" {
				line = source[name] + ": " + rest
			}
			problems = append(problems, line)
		}
	}
	return k, problems
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

// defaultText is the default shown in -h; empty for knobs whose default is off.
func defaultText(def sut.Knobs, name string) string {
	if text := def.Text(name); text != (sut.Knobs{}).Text(name) {
		return text
	}
	return ""
}

func printKnobs(w io.Writer, k sut.Knobs) {
	fmt.Fprintf(w, "lab sut: the misbehaving shop (pid %d)\n", os.Getpid())
	for _, s := range sut.KnobSpecs() {
		v := k.Text(s.Name)
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
