package lang

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary plan, workload and shapes sources to the loader: no
// input may panic it, and whatever loads must also summarise, flatten into
// facts and evaluate its requests without panicking.
func FuzzLoad(f *testing.F) {
	workload, err := os.ReadFile("../plans/shop.workload.hcl")
	if err != nil {
		f.Fatal(err)
	}
	shapes, err := os.ReadFile("../plans/shop.shapes.hcl")
	if err != nil {
		f.Fatal(err)
	}
	seeds, _ := filepath.Glob("../plans/*.hcl")
	broken, _ := filepath.Glob("testdata/broken/*.hcl")
	workloads, _ := filepath.Glob("testdata/workloads/*.hcl")
	seeds = append(append(seeds, broken...), workloads...)
	for _, path := range seeds {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, workload, shapes)
	}
	f.Fuzz(func(t *testing.T, plan, workload, shapes []byte) {
		files := map[string][]byte{"plan.hcl": plan, "shop.workload.hcl": workload, "shop.shapes.hcl": shapes}
		read := func(path string) ([]byte, error) {
			if b, ok := files[filepath.Base(path)]; ok {
				return b, nil
			}
			return nil, errors.New("no such file")
		}
		p, diags := Load("plan.hcl", Options{ReadFile: read, Vars: nil})
		_ = WriteDiagnostics(discard{}, files, diags, false)
		if p == nil {
			if !diags.HasErrors() {
				t.Fatal("no plan and no error")
			}
			return
		}
		_ = p.Summary()
		_ = Diff(p, p)
		if p.Workload == nil {
			return
		}
		for _, u := range p.Workload.Users {
			s := p.NewScope(1, u.Name)
			for _, task := range u.Tasks {
				for _, r := range task.Steps {
					_, _ = r.Path.AppendText(nil, s)
					if r.Body != nil && r.Body.Value != nil {
						_, _ = r.Body.Value.AppendJSON(nil, s)
					}
					for _, h := range r.Headers {
						_, _ = h.Value.AppendText(nil, s)
					}
				}
			}
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
