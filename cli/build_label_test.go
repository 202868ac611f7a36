package cli

import "testing"

// Issue 19, defect 4: a run records the target's build, from -var build=
// (the last one given) or else $LAB_BUILD, so that a regression history
// can leave out runs of other builds.
func TestBuildLabel(t *testing.T) {
	env := func(vars map[string]string) *cmdEnv {
		return &cmdEnv{getenv: func(k string) string { return vars[k] }}
	}
	for _, c := range []struct {
		env  map[string]string
		vars []string
		want string
	}{
		{nil, nil, ""},
		{map[string]string{"LAB_BUILD": "abc123"}, nil, "abc123"},
		{map[string]string{"LAB_BUILD": "abc123"}, []string{"rate=50/s", "build=v2", "build=\"v3\""}, "v3"},
		{nil, []string{"builder=x"}, ""},
	} {
		if got := buildLabel(env(c.env), c.vars); got != c.want {
			t.Errorf("env %v, -var %v: build %q, want %q", c.env, c.vars, got, c.want)
		}
	}
}
