package gates

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"lab/lang"
	"lab/runtime/result"
)

// ErrNoBaseline means a regression block's baseline does not exist yet.
var ErrNoBaseline = errors.New("no baseline run")

// FindBaseline resolves a regression block's baseline to a run folder: the
// path itself when it holds a result.json, else its `baseline` run, else
// its `latest` run (a results/<plan> folder). Links are resolved, so that
// a `latest` that moves on to the current run is not mistaken for the
// baseline later.
func FindBaseline(path string) (string, error) {
	for _, dir := range []string{path, filepath.Join(path, "baseline"), filepath.Join(path, "latest")} {
		if _, err := os.Stat(filepath.Join(dir, "result.json")); err == nil {
			real, err := filepath.EvalSymlinks(dir)
			if err != nil {
				return "", err
			}
			return real, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w at %s", ErrNoBaseline, path)
	}
	return "", fmt.Errorf("%w in %s: it holds no result.json, and no baseline or latest run", ErrNoBaseline, path)
}

// BaselineKey is the Run's Extra entry that names the baseline folder it
// was judged against, so that its report can be rebuilt with the same
// comparison after results/<plan>/latest has moved on to the run itself.
const BaselineKey = "baseline"

// StoredBaseline is the baseline folder run was judged against, "" when
// none is recorded.
func StoredBaseline(run *result.Run) string {
	dir, _ := run.Extra[BaselineKey].(string)
	return dir
}

// RecordBaseline notes in run the baseline folder opt holds, if any.
func RecordBaseline(run *result.Run, opt Options) {
	if opt.BaselineDir == "" {
		return
	}
	if run.Extra == nil {
		run.Extra = map[string]any{}
	}
	run.Extra[BaselineKey] = opt.BaselineDir
}

// LoadBaseline finds and reads the run a regression block compares with
// (override, when set, instead of the block's baseline) and the history
// of runs stored beside it, and returns them as Options for Judge (without
// Table). current is the folder of the run being judged, "" when it is not
// written yet: a baseline that resolves to it is no baseline, and it is
// left out of the history. A baseline not stored yet is not an error (the
// verdict is advisory; Options.NoBaseline says why). One that is there but
// cannot be read sets Options.BadBaseline, and warning says so for the
// command to print. A plan without a regression block gives empty Options.
func LoadBaseline(r *lang.Regression, override, current string) (opt Options, warning error) {
	if r == nil {
		return opt, nil
	}
	path := r.Baseline
	if override != "" {
		path = override
	}
	dir, err := FindBaseline(path)
	switch {
	case errors.Is(err, ErrNoBaseline):
		opt.NoBaseline = err.Error()
		return opt, nil
	case err != nil:
		opt.BadBaseline = fmt.Sprintf("the baseline at %s cannot be read (%v)", path, err)
		return opt, fmt.Errorf("baseline %s: %w", path, err)
	}
	if current != "" {
		if cur, err := filepath.EvalSymlinks(current); err == nil && cur == dir {
			opt.NoBaseline = fmt.Sprintf("the baseline %s is this run itself", dir)
			return opt, nil
		}
	}
	if opt.Baseline, err = result.Load(dir); err != nil {
		opt.BadBaseline = fmt.Sprintf("the baseline at %s cannot be read (%v)", dir, err)
		return opt, fmt.Errorf("baseline %s: %w", dir, err)
	}
	if opt.BaselineDir, err = filepath.Abs(dir); err != nil {
		opt.BaselineDir = dir
	}
	// The runs stored beside the baseline (its results/<plan> folder): the
	// runner's noise, which widens the thresholds once there are enough.
	// Without them the thresholds stay as the plan sets them.
	if h, err := LoadHistory(filepath.Dir(dir), opt.Baseline, current); err == nil {
		opt.History = h
	}
	return opt, nil
}
