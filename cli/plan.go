package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"lab/deploy/compose"
	"lab/deploy/kube"
	"lab/gates/exitcode"
	"lab/grafana"
	"lab/lang"
	"lab/runtime/atomicfile"
)

const planAbout = `Check a plan and show what it will do, without sending a request.

Prints the resolved variables, the user mix, each task's share of requests,
the stages, every budget and the topology, and writes the same text (with the
deployment files) to generated/<plan>/. With no FILE, plans every scenario in
plans/ (skipping the *.workload.hcl and *.shapes.hcl files plans read).

--against OLD compares with another version of the plan (a file, or git:REV
for the same path at a git revision) and marks every loosened budget.`

// lastPlanFile remembers what `lab plan` last planned, so that `lab apply`
// with no file applies it, as terraform does.
const lastPlanFile = ".lab/last-plan.json"

type lastPlan struct {
	File     string            `json:"file"`
	Vars     []string          `json:"vars,omitempty"`
	VarFiles []string          `json:"var_files,omitempty"`
	Shape    string            `json:"shape,omitempty"`
	Outside  bool              `json:"allow_outside_files,omitempty"`
	Sources  map[string]string `json:"sources"` // path → sha256, to tell a stale plan
}

// planOpts is what lab plan was asked for.
type planOpts struct {
	pf           planFlags
	files        []string
	against      string
	failLoosened bool
	out          string
	check        bool
}

func runPlan(env *cmdEnv, args []string) error {
	o, err := parsePlanFlags(env, args)
	if err != nil {
		return err
	}
	code := exitcode.OK
	var stale []string
	for i, file := range o.files {
		outdated, err := o.plan(env, i, file)
		// Said now: the other plans are still planned, unless this one
		// could not be written.
		c := exit(env, err)
		if c == exitcode.CouldNotRun {
			return exitWith(c)
		}
		code = max(code, c)
		stale = append(stale, outdated...)
	}
	if !o.check || code != exitcode.OK {
		return exitWith(code)
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		// Said as "lab plan --check: …", the mode that failed.
		fmt.Fprintf(env.stderr, "lab plan --check: generated files are stale; run `make generate` (lab plan) and commit:\n  %s\n", strings.Join(stale, "\n  "))
		return exitWith(exitcode.Breach)
	}
	fmt.Fprintf(env.stderr, "lab plan --check: %d plans, generated files up to date\n", len(o.files))
	return nil
}

// parsePlanFlags reads the command line and lists the plans to plan: FILE,
// or every scenario in plans/.
func parsePlanFlags(env *cmdEnv, args []string) (*planOpts, error) {
	fs := newFlags("plan")
	o := &planOpts{}
	o.pf.register(fs)
	fs.StringVar(&o.against, "against", "", "compare with OLD: a plan file, or git:REV for this file at a git revision")
	fs.BoolVar(&o.failLoosened, "fail-on-loosened", false, "with --against, exit 1 when a budget is loosened")
	fs.StringVar(&o.out, "out", "generated", "folder to write generated/<plan>/ files into")
	fs.BoolVar(&o.check, "check", false, "write nothing; exit 1 when the generated files are not what the plans give")
	if err := parseFlags(env, fs, args, "lab plan [FILE] [flags]", planAbout); err != nil {
		return nil, err
	}
	if fs.NArg() > 1 {
		return nil, failf(exitcode.BadInput, "one plan file at a time; got %d", fs.NArg())
	}
	if fs.NArg() == 1 {
		o.files = []string{fs.Arg(0)}
		return o, nil
	}
	if o.against != "" {
		return nil, failf(exitcode.BadInput, "--against needs the plan FILE to compare")
	}
	var err error
	if o.files, err = scenarioFiles("plans"); err != nil || len(o.files) == 0 {
		return nil, failf(exitcode.BadInput, "no FILE given and no plans/*.hcl here (%v)", err)
	}
	return o, nil
}

// plan plans the i-th file: prints its summary (or its diff --against
// OLD), and writes its generated files, or with --check lists those that
// are stale. A plan that does not load is exit 2 and the others are still
// planned; a generated file that cannot be written is exit 3 and ends the
// command.
func (o *planOpts) plan(env *cmdEnv, i int, file string) (stale []string, err error) {
	plan, _, err := loadPlan(env, file, o.pf.options(env))
	if err != nil {
		return nil, err
	}
	summary := plan.Summary()
	var loosened error
	if o.against != "" {
		err := planDiff(env, plan, file, o.against, o.pf)
		if codeOf(err) == exitcode.BadInput {
			return nil, err
		}
		if codeOf(err) == exitcode.Breach && o.failLoosened {
			loosened = err
		}
	} else if !o.check {
		if i > 0 {
			fmt.Fprintln(env.stdout)
		}
		fmt.Fprint(env.stdout, summary)
	}
	arts, notes, err := artifacts(plan)
	for _, note := range notes {
		env.notef("note: %s", note)
	}
	if err != nil {
		return nil, failf(exitcode.CouldNotRun, "%v", err)
	}
	for _, a := range arts {
		path := filepath.Join(o.out, plan.Name, a.name)
		if o.check {
			if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, a.data) {
				stale = append(stale, path)
			}
			continue
		}
		if err := atomicfile.Write(path, a.data, 0o644); err != nil {
			return nil, failf(exitcode.CouldNotRun, "%v", err)
		}
	}
	if !o.check && len(o.files) == 1 {
		if err := rememberPlan(file, o.pf, plan); err != nil {
			env.notef("could not remember the plan for lab apply: %v", err)
		}
	}
	return stale, loosened
}

// scenarioFiles lists the scenarios in dir: *.hcl but the workload and
// shapes files.
func scenarioFiles(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		if lang.IsPlanFile(m) {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out, nil
}

type artifact struct {
	name string
	data []byte
}

// artifacts are the files `lab plan` writes to generated/<plan>/: the
// summary, the Compose files that run the plan as containers
// (deploy/compose) and the Kubernetes manifests
// (deploy/kube). A Compose file its own loader refuses is a bug of
// lab, not of the plan: exit 3. A plan Kubernetes cannot deploy gets no
// k8s.yaml, and a note says why: the plan itself may still be applied.
func artifacts(plan *lang.Plan) (arts []artifact, notes []string, err error) {
	arts = []artifact{{"plan.txt", []byte(plan.Summary())}}
	files, err := compose.Build(plan)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		arts = append(arts, artifact{f.Name, f.Data})
	}
	dash, err := grafana.Build(plan)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range dash {
		arts = append(arts, artifact{f.Name, f.Data})
	}
	if k8s, err := kube.YAML(plan); err != nil {
		notes = append(notes, fmt.Sprintf("no k8s.yaml for plan %s: %v", plan.Name, err))
	} else {
		arts = append(arts, artifact{"k8s.yaml", k8s})
	}
	return arts, notes, nil
}

// planDiff loads OLD and prints the semantic diff; it returns an exit 1
// when a budget was loosened.
func planDiff(env *cmdEnv, cur *lang.Plan, file, against string, pf planFlags) error {
	opts := pf.options(env)
	oldPath, label := against, against
	if rev, ok := strings.CutPrefix(against, "git:"); ok {
		if rev == "" {
			return failf(exitcode.BadInput, "--against git:REV needs a revision, like git:HEAD or git:main")
		}
		oldPath = file
		label = fmt.Sprintf("%s at %s", file, rev)
		opts.ReadFile = gitReader(rev)
	}
	old, _, err := loadPlan(env, oldPath, opts)
	if err != nil {
		return failf(exitcode.BadInput, "the plan to compare against (%s) is invalid", label)
	}
	changes := lang.Diff(old, cur)
	fmt.Fprintf(env.stdout, "plan %s: changes against %s\n\n%s", cur.Name, label, lang.DiffText(changes))
	if lang.Loosened(changes) > 0 {
		return exitWith(exitcode.Breach)
	}
	return nil
}

// gitReader reads files as they were at a git revision.
func gitReader(rev string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		rel := path
		if filepath.IsAbs(path) {
			wd, err := os.Getwd()
			if err != nil {
				return nil, err
			}
			if rel, err = filepath.Rel(wd, path); err != nil {
				return nil, err
			}
		}
		var stderr bytes.Buffer
		cmd := exec.Command("git", "show", rev+":./"+filepath.ToSlash(filepath.Clean(rel)))
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return nil, fmt.Errorf("git show %s:%s: %s", rev, rel, msg)
		}
		return out, nil
	}
}

func rememberPlan(file string, pf planFlags, plan *lang.Plan) error {
	lp := lastPlan{File: file, Vars: pf.vars, VarFiles: pf.varFiles, Shape: pf.shape, Outside: pf.allowOutside, Sources: sourceHashes(plan)}
	data, err := json.MarshalIndent(lp, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(lastPlanFile, append(data, '\n'), 0o644)
}

func sourceHashes(plan *lang.Plan) map[string]string {
	out := map[string]string{}
	for path, src := range plan.Sources {
		sum := sha256.Sum256(src)
		out[path] = hex.EncodeToString(sum[:])
	}
	return out
}
