package lang

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// decodeVariables resolves every declared variable: its default, then
// LAB_VAR_<name>, then -var-file files in order, then -var flags in order.
func (d *decoder) decodeVariables(raws []*rawVariable) []*Variable {
	byName := map[string]*Variable{}
	var vars []*Variable
	constCtx := &hcl.EvalContext{Functions: d.env.funcs}
	for _, rv := range raws {
		if prev, dup := byName[rv.Name]; dup {
			d.errorf(rv.DefRange, "Duplicate variable", "A variable named %q was already declared at %s.", rv.Name, prev.DefRange)
			continue
		}
		if !hclsyntax.ValidIdentifier(rv.Name) {
			d.errorf(rv.DefRange, "Invalid variable name", "%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", rv.Name)
			continue
		}
		v := &Variable{Name: rv.Name, Type: cty.DynamicPseudoType, DefRange: rv.DefRange}
		if present(rv.Type) {
			ty, diags := typeexpr.TypeConstraint(rv.Type)
			d.diags = append(d.diags, diags...)
			if !diags.HasErrors() {
				v.Type = ty
			}
		}
		if present(rv.Description) {
			if s, ok := d.constString(rv.Description, constCtx, "description"); ok {
				v.Description = s
			}
		}
		if present(rv.Sensitive) {
			if b, ok := d.boolean(rv.Sensitive, "sensitive"); ok && b {
				if v.Type != cty.String && v.Type != cty.DynamicPseudoType {
					d.errorf(rv.Sensitive.Range(), "Sensitive variable not a string", "sensitive is for secrets written as strings (tokens, passwords); %q is a %s.", rv.Name, typeexpr.TypeString(v.Type))
				} else {
					v.Sensitive = true
				}
			}
		}
		if present(rv.Default) {
			// A default in error still counts as given, so the variable is
			// not also reported as missing a value.
			if len(rv.Default.Variables()) > 0 {
				d.errorf(rv.Default.Range(), "Variables not allowed", "A variable's default must not depend on other variables.")
				v.Value = cty.DynamicVal
			} else if val, diags := rv.Default.Value(constCtx); diags.HasErrors() {
				d.diags = append(d.diags, diags...)
				v.Value = cty.DynamicVal
			} else if cv, err := convert.Convert(val, v.Type); err != nil {
				d.errorf(rv.Default.Range(), "Invalid default value", "The default of %q does not match its type %s: %s.", rv.Name, typeexpr.TypeString(v.Type), err)
				v.Value = cty.DynamicVal
			} else {
				v.Value, v.Source = cv, "default"
				if v.Type == cty.DynamicPseudoType && cv.Type().IsPrimitiveType() {
					// An untyped variable takes its default's type, so
					// -var users=50 is the number 50 and not a string.
					v.Type = cv.Type()
				}
			}
		}
		byName[rv.Name] = v
		vars = append(vars, v)
	}
	d.varNames = nil
	for _, v := range vars {
		d.varNames = append(d.varNames, v.Name)
	}

	// Environment first: the lowest of the overrides.
	for _, v := range vars {
		key := "LAB_VAR_" + v.Name
		if raw := d.loader.opts.Env(key); raw != "" {
			d.setFromString(v, raw, "env "+key)
		}
	}
	for _, path := range d.loader.opts.VarFiles {
		d.applyVarFile(path, byName, constCtx)
	}
	for _, assign := range d.loader.opts.Vars {
		name, raw, ok := strings.Cut(assign, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var option",
				Detail: fmt.Sprintf("-var %q: write name=value, like -var users=50.", assign)})
			continue
		}
		v, known := byName[name]
		if !known {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable",
				Detail: fmt.Sprintf("-var %s: the plan declares no variable %q.%s", assign, name, didYouMean(name, d.varNames))})
			continue
		}
		d.setFromString(v, raw, "-var")
	}
	for _, v := range vars {
		if v.Value == cty.NilVal {
			d.errorf(v.DefRange, "Missing value for variable", "Variable %q has no default; set it with -var %s=…, -var-file or LAB_VAR_%s.", v.Name, v.Name, v.Name)
			v.Value = cty.DynamicVal
		}
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars
}

func (d *decoder) constString(expr hcl.Expression, ctx *hcl.EvalContext, what string) (string, bool) {
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		d.diags = append(d.diags, diags...)
		return "", false
	}
	s, err := convert.Convert(val, cty.String)
	if err != nil || s.IsNull() {
		d.errorf(expr.Range(), "Invalid value for "+what, "%s must be a string.", what)
		return "", false
	}
	return s.AsString(), true
}

// setFromString sets a variable from a command-line or environment string:
// taken as it is for strings, read as an HCL value for other types.
func (d *decoder) setFromString(v *Variable, raw, source string) {
	ty := v.Type
	if ty == cty.DynamicPseudoType {
		ty = cty.String
	}
	var val cty.Value
	if ty == cty.String {
		val = cty.StringVal(raw)
	} else {
		expr, diags := hclsyntax.ParseExpression([]byte(raw), "<"+source+" "+v.Name+">", hcl.InitialPos)
		if !diags.HasErrors() {
			val, diags = expr.Value(&hcl.EvalContext{Functions: d.env.funcs})
		}
		if diags.HasErrors() {
			// A bare word for a number or list is the usual mistake: say what
			// was expected rather than echo a parser error.
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
				Detail: fmt.Sprintf("%s %s=%s: variable %q takes a value of type %s.", source, v.Name, raw, v.Name, typeexpr.TypeString(ty))})
			return
		}
	}
	cv, err := convert.Convert(val, ty)
	if err != nil {
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("%s %s=%s: variable %q takes a value of type %s: %s.", source, v.Name, raw, v.Name, typeexpr.TypeString(ty), err)})
		return
	}
	v.Value, v.Source = cv, source
}

func (d *decoder) applyVarFile(path string, byName map[string]*Variable, ctx *hcl.EvalContext) {
	f, diags := d.loader.parse(path, nil)
	d.diags = append(d.diags, diags...)
	if f == nil || diags.HasErrors() {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	d.diags = append(d.diags, diags...)
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		attr := attrs[name]
		v, known := byName[name]
		if !known {
			d.errorf(attr.NameRange, "Undeclared variable", "The plan declares no variable %q.%s", name, didYouMean(name, d.varNames))
			continue
		}
		val, vd := attr.Expr.Value(ctx)
		if vd.HasErrors() {
			d.diags = append(d.diags, vd...)
			continue
		}
		cv, err := convert.Convert(val, v.Type)
		if err != nil {
			d.errorf(attr.Expr.Range(), "Invalid value for variable", "Variable %q takes a value of type %s: %s.", name, typeexpr.TypeString(v.Type), err)
			continue
		}
		v.Value, v.Source = cv, "-var-file "+path
	}
}

func (d *decoder) hasVar(name string) bool { return contains(d.varNames, name) }

// varObject is the `var` object expressions read.
func varObject(vars []*Variable) cty.Value {
	m := map[string]cty.Value{}
	for _, v := range vars {
		m[v.Name] = v.Value
	}
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}
