package lang

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Options says where a plan's variables and shape come from besides the plan.
type Options struct {
	// Vars are -var name=value assignments in command-line order (later wins).
	Vars []string
	// VarFiles are -var-file paths, applied before Vars.
	VarFiles []string
	// Env reads LAB_VAR_<name> and LAB_SHAPE; nil reads nothing.
	Env func(string) string
	// Shape picks a shape by name (--shape); it wins over LAB_SHAPE and run.shape.
	Shape string
	// AllowOutside lets a plan read files (a workload or shapes source,
	// file()) outside its own folder; without it such a path is an error,
	// so that a reviewed plan cannot pull in ../secrets or /etc files.
	AllowOutside bool
	// ReadFile reads the plan and the files it refers to; nil reads the disk.
	// A different reader loads a plan from a git revision or from what a
	// master shipped to a worker.
	ReadFile func(path string) ([]byte, error)
}

// Loader reads plans and remembers every file it parsed, so diagnostics can
// show source lines.
type Loader struct {
	opts   Options
	onDisk bool // ReadFile is the disk's, where links can lead elsewhere
	files  map[string]*hcl.File
	srcs   map[string][]byte
}

// NewLoader returns a loader with the given options.
func NewLoader(opts Options) *Loader {
	onDisk := opts.ReadFile == nil
	if onDisk {
		opts.ReadFile = os.ReadFile
	}
	if opts.Env == nil {
		opts.Env = func(string) string { return "" }
	}
	return &Loader{opts: opts, onDisk: onDisk, files: map[string]*hcl.File{}, srcs: map[string][]byte{}}
}

// Load reads, decodes and validates the plan at path.
func Load(path string, opts Options) (*Plan, hcl.Diagnostics) {
	return NewLoader(opts).Load(path)
}

// WriteDiagnostics prints diags with file:line:column and their source lines.
func (l *Loader) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, color bool) error {
	return WriteDiagnostics(w, l.srcs, diags, color)
}

// parse reads and parses one HCL file, once.
func (l *Loader) parse(path string, subject *hcl.Range) (*hcl.File, hcl.Diagnostics) {
	if f, ok := l.files[path]; ok {
		return f, nil
	}
	src, err := l.opts.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read file",
			Detail:   fmt.Sprintf("Reading %s: %s.", path, cleanIOError(err)),
			Subject:  subject,
		}}
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	l.srcs[path] = src
	if f != nil {
		l.files[path] = f
	}
	return f, diags
}

func cleanIOError(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// Load reads, decodes and validates the plan at path. The plan is nil when
// diags has errors.
func (l *Loader) Load(path string) (*Plan, hcl.Diagnostics) {
	f, diags := l.parse(path, nil)
	if diags.HasErrors() {
		return nil, diags
	}
	d := &decoder{loader: l, path: path, dir: filepath.Dir(path)}
	plan := d.decodePlan(f)
	diags = append(diags, d.diags...)
	if diags.HasErrors() {
		return nil, sortDiags(diags)
	}
	plan.Sources = map[string][]byte{}
	for p, src := range l.srcs {
		plan.Sources[p] = src
	}
	return plan, sortDiags(diags)
}

// IsPlanFile tells a plan from the parts plans read: workload files
// (NAME.workload.hcl) and shapes files (NAME.shapes.hcl).
func IsPlanFile(path string) bool {
	return strings.HasSuffix(path, ".hcl") && !strings.HasSuffix(path, ".workload.hcl") && !strings.HasSuffix(path, ".shapes.hcl")
}

// PlanName is the name a plan file gives its plan: its base name without
// the .hcl extension.
func PlanName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".hcl")
}

// sortDiags orders diagnostics by file and position so output is stable.
func sortDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil && b == nil:
			return false
		case a == nil:
			return true
		case b == nil:
			return false
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	return diags
}
