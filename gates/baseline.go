package gates

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
